// The gateway service: the five M2SE tasks over gRPC. main.ts runs it; these are for tests,
// benchmarks and tools that run it in-process or talk to it.
export { GatewayClient, type GatewayClientOptions } from './client.js';
export { Gateway, type GatewayConfig } from './gateway.js';
export { createGatewayService, gatewayConfig } from './service.js';
