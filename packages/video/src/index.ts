// Video decoding with ffmpeg, face detection, landmarks and tracking per person
export {};
