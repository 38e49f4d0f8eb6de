// How every service starts: validated config, gRPC server with health and reflection, telemetry, NATS, graceful shutdown
export {};
