// The local stack of `npm run demo` and of its CI test: Debian's real nats-server with JetStream,
// then the five services as separate processes, each on a free loopback gRPC port. It reuses
// @emoverse/testing's process helpers (the same ones the integration tests use), so a crashed demo
// or test never leaves a nats-server or a service behind: they are killed when this process exits.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  type NatsServer,
  type ServiceProcess,
  startNatsServer,
  startService,
  waitForHealth,
} from '@emoverse/testing';

export const SERVICE_NAMES = [
  'frame-extractor',
  'au-scorer',
  'caption-generator',
  'trainer',
  'gateway',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface LocalStackOptions {
  /** Which services to start (default all five). */
  services?: readonly ServiceName[];
  /** Environment every service gets (merged over process.env), e.g. the trace exporter. */
  env?: Record<string, string | undefined>;
  /** Extra environment per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string | undefined>>>;
  /** How long a service may take to answer gRPC health (default 120 s: tsx start-up on a busy 2-core box). */
  healthTimeoutMs?: number;
  /** Called as each process becomes healthy (progress). */
  onReady?: (name: ServiceName | 'nats-server', seconds: number) => void;
  /** Mirror service output to stderr. */
  echo?: boolean;
}

export interface LocalStack {
  nats: NatsServer;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  /** host:port of each service's gRPC server. */
  addresses: Record<ServiceName, string>;
  /** Resolves when the gateway answers SERVING (it is NOT_SERVING until a model is loaded). */
  gatewayReady(timeoutMs?: number): Promise<void>;
  /** Writes each service's output to <dir>/<name>.log. */
  saveLogs(dir: string): void;
  /** SIGTERM every service (SIGKILL after 10 s), then stops nats-server. Idempotent. */
  stop(): Promise<void>;
  /** Process ids of the five services. */
  pids(): number[];
  /** Every process of the stack: nats-server, the services and what they started (training workers). */
  processTree(): number[];
}

/** Parent pid of every process (Linux /proc), to find what a service started in turn (e.g. training workers). */
function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Every live descendant of the given processes. */
export function descendantPids(roots: readonly number[]): number[] {
  const parents = parentPids();
  const found: number[] = [];
  const frontier = [...roots];
  while (frontier.length > 0) {
    const p = frontier.pop()!;
    for (const [pid, ppid] of parents) {
      if (ppid === p && !found.includes(pid)) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}

/** The command line of a process ('' once it is gone). */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie (exited, not yet reaped) counts as gone
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Starts nats-server, then all five services at once (ports chosen up front so the gateway can be
 * told au-scorer's address), and waits until each answers grpc.health.v1 (the gateway only until its
 * process is up: it turns SERVING once its model is loaded, see gatewayReady()).
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const nats = await startNatsServer();
  options.onReady?.('nats-server', since());
  const ports = Object.fromEntries(
    await Promise.all(SERVICE_NAMES.map(async (n) => [n, await freePort()] as const)),
  ) as Record<ServiceName, number>;
  const addresses = Object.fromEntries(SERVICE_NAMES.map((n) => [n, `127.0.0.1:${ports[n]}`])) as Record<
    ServiceName,
    string
  >;
  const common: Record<string, string | undefined> = {
    EMOVERSE_GRPC_HOST: '127.0.0.1',
    EMOVERSE_FRAME_EXTRACTOR_ADDR: addresses['frame-extractor'],
    EMOVERSE_AU_SCORER_ADDR: addresses['au-scorer'],
    EMOVERSE_GATEWAY_ADDR: addresses.gateway,
    ...options.env,
  };
  const started = new Map<ServiceName, ServiceProcess>();
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...started.values()].map((s) => s.stop('SIGTERM', 10_000)));
    await nats.stop();
  };
  try {
    const wanted = SERVICE_NAMES.filter((n) => !options.services || options.services.includes(n));
    await Promise.all(
      wanted.map(async (name) => {
        const svc = await startService(name, {
          // Each service connects as its own NATS identity (permissions.ts of @emoverse/bus).
          nats,
          env: { ...common, ...options.serviceEnv?.[name], EMOVERSE_GRPC_PORT: String(ports[name]) },
          // The gateway is NOT_SERVING until a model is loaded; its process start is checked below.
          waitForHealth: name !== 'gateway',
          timeoutMs: options.healthTimeoutMs ?? 120_000,
          echo: options.echo,
        });
        started.set(name, svc);
        if (name === 'gateway')
          await svc.waitForOutput(/gateway listening/, options.healthTimeoutMs ?? 120_000);
        options.onReady?.(name, since());
      }),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  const services = Object.fromEntries(started) as Partial<Record<ServiceName, ServiceProcess>>;
  const gateway = services.gateway;
  return {
    nats,
    services,
    addresses,
    gatewayReady: (timeoutMs = 300_000) =>
      waitForHealth(addresses.gateway, {
        timeoutMs,
        isAlive: () => !!gateway && gateway.proc.exitCode === null && gateway.proc.signalCode === null,
      }),
    saveLogs(dir) {
      for (const [name, s] of started) writeFileSync(join(dir, `${name}.log`), s.output());
    },
    stop: stopAll,
    pids: () => [...started.values()].flatMap((s) => (s.proc.pid ? [s.proc.pid] : [])),
    processTree() {
      const services = [...started.values()].flatMap((s) => (s.proc.pid ? [s.proc.pid] : []));
      // nats-server: this process's child listening on the stack's port (its handle keeps no pid)
      const natsPids = [...parentPids()]
        .filter(([pid, ppid]) => ppid === process.pid && cmdline(pid).includes(`nats-server`))
        .filter(([pid]) => cmdline(pid).includes(` -p ${nats.port} `))
        .map(([pid]) => pid);
      const roots = [...services, ...natsPids];
      return [...roots, ...descendantPids(roots)];
    },
  };
}
