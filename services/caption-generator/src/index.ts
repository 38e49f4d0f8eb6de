// The caption-generator service
export {};
