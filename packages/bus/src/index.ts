// Typed NATS JetStream: streams, durable work queues, dead letters, KV and object store
export {};
