// Facial action units: the 17 intensities, S_f, peak frames per person and across people, FER captions
export {};
