// defineService: how every service starts (config, telemetry, NATS, gRPC with health and reflection, stop).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DescService } from '@bufbuild/protobuf';
import { type Bus, connectBus, type Identity, identityNames } from '@emoverse/bus';
import {
  Histogram,
  initTelemetry,
  type Logger,
  type MetricsServer,
  parseExporterKind,
  type Telemetry,
} from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { z } from 'zod';
import {
  type BrowserOptions,
  browserHandler,
  listenShared,
  type RegisteredService,
  type SharedListener,
} from './browser.js';
import { type BaseConfig, loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { grpcServiceDefinition } from './grpc-adapter.js';
import { type HealthPort, serveHealthPort } from './health-port.js';
import { explainConnectError, natsAuthFromEnv } from './nats-auth.js';
import { addReflection } from './reflection.js';
import { type ServiceImpl, wrapHandler } from './server-handlers.js';

export interface ServiceContext<C> {
  name: string;
  config: C;
  telemetry: Telemetry;
  logger: Logger;
  /** Connected to NATS_URL, every stream declared. */
  bus: Bus;
  server: grpc.Server;
  /** Registers a gRPC service from its generated descriptor, e.g. addService(GatewayService, {...}). */
  addService<S extends DescService>(service: S, impl: ServiceImpl<S>): void;
  /**
   * Also serves every added service over Connect and gRPC-web (HTTP/1.1) on the gRPC port, from the
   * same handlers with the same tracing, metrics and status mapping; other HTTP requests go to
   * `options.fallback`. Plaintext ports only: with TLS configured the port stays gRPC-only.
   */
  serveBrowsers(options: BrowserOptions): void;
  /** grpc.health.v1 status of the whole server ('') or one service (its full name). */
  setServing(serving: boolean, service?: string): void;
  /** Runs on shutdown, newest first, after the gRPC server stopped taking calls and before the bus drains. */
  onShutdown(fn: () => Promise<void> | void): void;
}

export interface ServiceDefinition<S extends z.ZodRawShape> {
  /** e.g. 'au-scorer': the logger's service, the trace resource, the NATS connection name. */
  name: string;
  /** The service's own environment variables (zod); merged with the base ones (NATS_URL, EMOVERSE_GRPC_PORT, ...). */
  config?: S;
  /** Default gRPC port when EMOVERSE_GRPC_PORT is unset. */
  defaultPort?: number;
  /**
   * When true the service reports NOT_SERVING until it calls ctx.setServing(true) (e.g. after a model
   * loaded); otherwise it is SERVING as soon as start() returns.
   */
  manualReadiness?: boolean;
  /** Wires handlers and consumers; the gRPC server starts listening after it returns. */
  start(ctx: ServiceContext<BaseConfig & z.infer<z.ZodObject<S>>>): Promise<void> | void;
}

export interface RunningService {
  name: string;
  /** The bound gRPC port (useful with EMOVERSE_GRPC_PORT=0). */
  port: number;
  /** The bound plaintext health port (EMOVERSE_HEALTH_PORT), when one was asked for. */
  healthPort?: number;
  ctx: ServiceContext<unknown>;
  /** Graceful shutdown: NOT_SERVING, finish in-flight calls, shutdown hooks, drain the bus, flush traces. */
  stop(): Promise<void>;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Install SIGTERM/SIGINT handlers that stop and exit (default true in main(), false in run()). */
  handleSignals?: boolean;
}

export interface Service<S extends z.ZodRawShape> {
  definition: ServiceDefinition<S>;
  /** Starts the service in this process and resolves once it is listening. Throws ConfigError on bad env. */
  run(options?: RunOptions): Promise<RunningService>;
  /** For main.ts: run with signal handling; on failure print the reason and exit 1. */
  main(): Promise<void>;
}

/** Insecure, TLS (EMOVERSE_TLS_CERT + EMOVERSE_TLS_KEY) or mTLS (plus EMOVERSE_TLS_CLIENT_CA). */
export function serverCredentials(config: BaseConfig): grpc.ServerCredentials {
  const { EMOVERSE_TLS_CERT: cert, EMOVERSE_TLS_KEY: key, EMOVERSE_TLS_CLIENT_CA: ca } = config;
  if (!cert && !key && !ca) return grpc.ServerCredentials.createInsecure();
  if (!cert || !key) {
    throw new ConfigError(
      'EMOVERSE_TLS_CERT and EMOVERSE_TLS_KEY must be set together (and both for EMOVERSE_TLS_CLIENT_CA)',
    );
  }
  // Each file is parsed here, so a wrong one is named now rather than failing every handshake later.
  const read = (variable: string, path: string, parse: (pem: Buffer) => unknown) => {
    try {
      const pem = readFileSync(path);
      parse(pem);
      return pem;
    } catch (err) {
      throw new ConfigError(`${variable}=${JSON.stringify(path)}: ${(err as Error).message}`);
    }
  };
  const certificate = (pem: Buffer) => new X509Certificate(pem);
  const certChain = read('EMOVERSE_TLS_CERT', cert, certificate);
  const privateKey = read('EMOVERSE_TLS_KEY', key, createPrivateKey);
  if (!new X509Certificate(certChain).checkPrivateKey(createPrivateKey(privateKey)))
    throw new ConfigError(
      `EMOVERSE_TLS_KEY=${JSON.stringify(key)} is not the key of EMOVERSE_TLS_CERT's certificate`,
    );
  return grpc.ServerCredentials.createSsl(
    ca ? read('EMOVERSE_TLS_CLIENT_CA', ca, certificate) : null,
    [{ cert_chain: certChain, private_key: privateKey }],
    Boolean(ca),
  );
}

/** Every EmoVerse service starts through this: config, telemetry, NATS, gRPC with health and reflection, shutdown. */
export function defineService<S extends z.ZodRawShape = Record<never, never>>(
  definition: ServiceDefinition<S>,
): Service<S> {
  const run = async (options: RunOptions = {}): Promise<RunningService> => {
    const env = options.env ?? process.env;
    const config = loadConfig(
      definition.name,
      (definition.config ?? {}) as S,
      definition.defaultPort !== undefined && !env.EMOVERSE_GRPC_PORT
        ? { ...env, EMOVERSE_GRPC_PORT: String(definition.defaultPort) }
        : env,
    );
    const telemetry = initTelemetry({
      serviceName: definition.name,
      exporter: parseExporterKind(config.EMOVERSE_TRACE_EXPORTER),
      logLevel: config.EMOVERSE_LOG_LEVEL,
    });
    const logger = telemetry.logger;
    const hooks: Array<() => Promise<void> | void> = [];
    let metricsServer: MetricsServer | undefined;
    let healthPort: HealthPort | undefined;
    let bus: Bus | undefined;
    const server = new grpc.Server({
      'grpc.max_receive_message_length': config.EMOVERSE_GRPC_MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': config.EMOVERSE_GRPC_MAX_MESSAGE_BYTES,
    });
    let closeShared: (() => Promise<void>) | undefined;
    const cleanupEarly = async () => {
      await closeShared?.();
      server.forceShutdown();
      await bus?.close().catch(() => undefined);
      await metricsServer?.close();
      healthPort?.close();
      await telemetry.shutdown();
    };
    try {
      const auth = natsAuthFromEnv(config);
      bus = await connectBus({
        servers: config.NATS_URL.split(',').map((s) => s.trim()),
        replicas: config.EMOVERSE_STREAM_REPLICAS,
        name: definition.name,
        logger,
        metrics: telemetry.metrics,
        auth,
        // A service acts as its own identity of the permission table (its streams, its inbox prefix).
        identity: (identityNames as readonly string[]).includes(definition.name)
          ? (definition.name as Identity)
          : undefined,
      }).catch((err: Error) => {
        throw new ConfigError(explainConnectError(config, err));
      });
      const health = new HealthImplementation({ '': 'NOT_SERVING' });
      health.addToServer(server);
      const registered: DescService[] = [];
      const impls: RegisteredService[] = [];
      let browsers: BrowserOptions | undefined;
      let shared: SharedListener | undefined;
      const duration = new Histogram({
        name: 'emoverse_grpc_server_duration_seconds',
        help: 'gRPC server call latency by method and status code',
        labelNames: ['method', 'code'],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [telemetry.metrics],
      });
      const ctx: ServiceContext<BaseConfig & z.infer<z.ZodObject<S>>> = {
        name: definition.name,
        config,
        telemetry,
        logger,
        bus,
        server,
        addService(service, impl) {
          const handlers: grpc.UntypedServiceImplementation = {};
          for (const method of service.methods) {
            const fn = (impl as Record<string, unknown>)[method.localName];
            if (typeof fn !== 'function') {
              throw new Error(
                `${service.typeName}: no handler for ${method.name} (expected impl.${method.localName})`,
              );
            }
            handlers[method.name] = wrapHandler(
              service,
              method,
              fn as (...args: never[]) => unknown,
              duration,
            );
          }
          server.addService(grpcServiceDefinition(service), handlers);
          registered.push(service);
          impls.push({ service, impl: impl as Record<string, unknown> });
          health.setStatus(service.typeName, 'NOT_SERVING');
        },
        serveBrowsers(options) {
          browsers = options;
        },
        setServing(serving, service = '') {
          const status = serving ? 'SERVING' : 'NOT_SERVING';
          health.setStatus(service, status);
          if (service === '') for (const s of registered) health.setStatus(s.typeName, status);
        },
        onShutdown(fn) {
          hooks.push(fn);
        },
      };
      await definition.start(ctx);
      addReflection(server, registered);
      const tls = Boolean(
        config.EMOVERSE_TLS_CERT || config.EMOVERSE_TLS_KEY || config.EMOVERSE_TLS_CLIENT_CA,
      );
      if (browsers && tls) logger.warn('TLS is configured: Connect and gRPC-web are not served (gRPC only)');
      if (browsers && !tls) {
        shared = await listenShared(
          config.EMOVERSE_GRPC_HOST,
          config.EMOVERSE_GRPC_PORT,
          server,
          browserHandler(impls, duration, browsers),
        )
          .then((l) => {
            closeShared = l.close;
            return l;
          })
          .catch((err: Error) => {
            throw new ConfigError(
              `cannot listen on EMOVERSE_GRPC_HOST:EMOVERSE_GRPC_PORT=${config.EMOVERSE_GRPC_HOST}:${config.EMOVERSE_GRPC_PORT}: ${err.message}`,
            );
          });
      }
      const port =
        shared?.port ??
        (await new Promise<number>((resolve, reject) => {
          server.bindAsync(
            `${config.EMOVERSE_GRPC_HOST}:${config.EMOVERSE_GRPC_PORT}`,
            serverCredentials(config),
            (err, p) =>
              err
                ? reject(
                    new ConfigError(
                      `cannot listen on EMOVERSE_GRPC_HOST:EMOVERSE_GRPC_PORT=${config.EMOVERSE_GRPC_HOST}:${config.EMOVERSE_GRPC_PORT}: ${err.message}`,
                    ),
                  )
                : resolve(p),
          );
        }));
      if (config.EMOVERSE_HEALTH_PORT !== undefined) {
        healthPort = await serveHealthPort(health, config.EMOVERSE_GRPC_HOST, config.EMOVERSE_HEALTH_PORT);
      }
      if (config.EMOVERSE_METRICS_PORT !== undefined) {
        metricsServer = await telemetry.serveMetrics(config.EMOVERSE_METRICS_PORT);
      }
      if (!definition.manualReadiness) ctx.setServing(true);
      logger.info(
        {
          port,
          healthPort: healthPort?.port,
          metricsPort: metricsServer?.port,
          services: registered.map((s) => s.typeName),
        },
        `${definition.name} listening`,
      );

      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= (async () => {
          logger.info('shutting down');
          ctx.setServing(false);
          await shared?.close();
          // Stop taking calls; let in-flight ones finish within the timeout.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              server.forceShutdown();
              resolve();
            }, config.EMOVERSE_SHUTDOWN_TIMEOUT_MS / 2);
            server.tryShutdown(() => {
              clearTimeout(timer);
              resolve();
            });
          });
          for (const hook of hooks.reverse()) {
            await Promise.resolve()
              .then(hook)
              .catch((err: Error) => logger.error({ err: err.message }, 'shutdown hook failed'));
          }
          await bus!.drain().catch((err: Error) => logger.error({ err: err.message }, 'bus drain failed'));
          await metricsServer?.close();
          // Last: probes keep seeing NOT_SERVING while the service drains.
          healthPort?.close();
          logger.info('stopped');
          await telemetry.shutdown();
        })();
        return stopping;
      };

      if (options.handleSignals) {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, 'signal received');
          const force = setTimeout(() => {
            logger.error('graceful shutdown timed out; exiting');
            process.exit(1);
          }, config.EMOVERSE_SHUTDOWN_TIMEOUT_MS);
          force.unref();
          void stop().then(() => process.exit(0));
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      }
      return {
        name: definition.name,
        port,
        healthPort: healthPort?.port,
        ctx: ctx as ServiceContext<unknown>,
        stop,
      };
    } catch (err) {
      await cleanupEarly();
      throw err;
    }
  };

  return {
    definition,
    run,
    async main() {
      try {
        await run({ handleSignals: true });
      } catch (err) {
        const message = err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err));
        process.stderr.write(`${definition.name} failed to start: ${message}\n`);
        process.exit(1);
      }
    },
  };
}
