// OpenTelemetry traces, Prometheus metrics and pino logs that carry the trace id
export {};
