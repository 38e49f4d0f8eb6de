// The gateway service
export {};
