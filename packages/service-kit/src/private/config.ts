// Service settings from the environment: the base ones every service reads, plus its own, checked by zod.
import { parseExporterKind } from '@emoverse/telemetry';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Settings every service reads from the environment. */
export const baseConfigShape = {
  /** NATS server(s), comma-separated. */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** NATS credentials, one kind (nats-auth.ts): user + password, a token, an nkey seed file or a creds file. */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  NATS_TOKEN: z.string().min(1).optional(),
  NATS_NKEY_SEED_FILE: z.string().min(1).optional(),
  NATS_CREDS_FILE: z.string().min(1).optional(),
  /** TLS to NATS: the CA that signed the server's certificate; a client certificate and key for mTLS. */
  NATS_TLS_CA: z.string().min(1).optional(),
  NATS_TLS_CERT: z.string().min(1).optional(),
  NATS_TLS_KEY: z.string().min(1).optional(),
  /**
   * Copies of every JetStream stream, KV bucket and object-store bucket the service declares: 1 for a
   * single NATS node, 3 for a three-node cluster (the chart sets it from its NATS replica count).
   */
  EMOVERSE_STREAM_REPLICAS: z
    .enum(['1', '3'], { message: 'expected 1 (one NATS node) or 3 (a three-node cluster)' })
    .default('1')
    .transform(Number),
  EMOVERSE_GRPC_HOST: z.string().min(1).default('0.0.0.0'),
  EMOVERSE_GRPC_PORT: z.coerce.number().int().min(0).max(65535).default(50051),
  /** Serve Prometheus /metrics on this port (unset: no metrics server). */
  EMOVERSE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Serve grpc.health.v1 alone, in plaintext, on this port too (probes that cannot speak TLS; unset: none). */
  EMOVERSE_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  EMOVERSE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** none | console | otlp | file:<path> */
  EMOVERSE_TRACE_EXPORTER: z
    .string()
    .default('none')
    .refine(
      (v) => {
        try {
          parseExporterKind(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'expected none, console, otlp or file:<path>' },
    ),
  /** Largest gRPC message accepted or sent. */
  EMOVERSE_GRPC_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** TLS: PEM certificate chain and private key files of the server (both set: the server speaks TLS). */
  EMOVERSE_TLS_CERT: z.string().min(1).optional(),
  EMOVERSE_TLS_KEY: z.string().min(1).optional(),
  /** mTLS: PEM CA file; clients must present a certificate it signed. Needs EMOVERSE_TLS_CERT/KEY. */
  EMOVERSE_TLS_CLIENT_CA: z.string().min(1).optional(),
  /** How long a graceful shutdown may take before the process exits anyway. */
  EMOVERSE_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
};

export const baseConfigSchema = z.object(baseConfigShape);
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/**
 * Parses env with the base settings plus the service's own. Fails with every bad variable named,
 * its value and what was expected, e.g. `EMOVERSE_GRPC_PORT="abc": expected number, received NaN`.
 */
export function loadConfig<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  env: Record<string, string | undefined> = process.env,
): BaseConfig & z.infer<z.ZodObject<S>> {
  const schema = baseConfigSchema.extend(shape);
  // Empty strings count as unset, as shells and compose files often write VAR= for "no value".
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data as BaseConfig & z.infer<z.ZodObject<S>>;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(env)');
    const value = cleaned[variable];
    return `  ${variable}${value === undefined ? ' (unset)' : `=${JSON.stringify(value)}`}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration for ${service}:\n${problems.join('\n')}`);
}
