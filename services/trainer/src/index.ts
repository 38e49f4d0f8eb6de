// The trainer service
export {};
