// Generated TypeScript for the gRPC contracts and NATS events in proto/
export {};
