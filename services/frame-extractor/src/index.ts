// The frame-extractor service
export {};
