// Test helpers: a real nats-server on a free loopback port, the shared data folder, ports
export {};
