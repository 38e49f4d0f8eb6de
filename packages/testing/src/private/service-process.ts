import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild, untrackChild } from './children.js';
import { waitForHealth } from './health.js';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  name: string;
  /** 127.0.0.1:<port> of its gRPC server. */
  grpcAddress: string;
  grpcPort: number;
  proc: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the first output line matching re (searching what was already printed too). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits. */
  exited: Promise<ExitInfo>;
  /** Sends signal (default SIGTERM), SIGKILLs after timeoutMs (default 10 s), resolves on exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
}

export interface StartServiceOptions {
  /**
   * The nats-server to connect to, as the service's own NATS identity (its name): NATS_URL and its
   * credentials are set from it, under `env`.
   */
  nats?: { env(identity: string): Record<string, string> };
  /** Extra environment (merged over process.env). EMOVERSE_GRPC_PORT is set unless given here. */
  env?: Record<string, string | undefined>;
  /** Wait for grpc.health.v1 SERVING before resolving (default true). */
  waitForHealth?: boolean;
  timeoutMs?: number;
  /** Mirror the service's output to this process's stderr (default: when EMOVERSE_TEST_VERBOSE is set). */
  echo?: boolean;
  /** Modules loaded before main.ts (`node --import`), e.g. a test fixture that injects faults. */
  imports?: string[];
}

/**
 * Spawns services/<name>/src/main.ts from sources (node --import tsx --conditions=source) on a free
 * gRPC port and, by default, waits until it answers gRPC health.
 */
export async function startService(name: string, options: StartServiceOptions = {}): Promise<ServiceProcess> {
  const dir = join(repoRoot(), 'services', name);
  const main = join(dir, 'src', 'main.ts');
  if (!existsSync(main)) throw new Error(`no service ${name}: ${main} does not exist`);
  const grpcPort = Number(options.env?.EMOVERSE_GRPC_PORT ?? (await freePort()));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    ...process.env,
    EMOVERSE_GRPC_PORT: String(grpcPort),
    ...options.nats?.env(name),
    ...options.env,
  })) {
    if (v !== undefined) env[k] = v;
  }
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      ...(options.imports ?? []).flatMap((m) => ['--import', m]),
      main,
    ],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(proc);
  const echo = options.echo ?? Boolean(process.env.EMOVERSE_TEST_VERBOSE);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    out += text;
    if (echo) process.stderr.write(`[${name}] ${text}`);
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => {
      untrackChild(proc);
      resolve({ code, signal });
    });
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;

  const handle: ServiceProcess = {
    name,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    grpcPort,
    proc,
    output: () => out,
    exited,
    waitForOutput(re, timeoutMs = 30_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const line = out.split('\n').find((l) => re.test(l));
          if (line !== undefined) {
            done();
            resolve(line);
          } else if (!alive()) {
            done();
            reject(new Error(`${name} exited without printing ${re}:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${re} in ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        const onExit = () => setImmediate(check);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          proc.off('exit', onExit);
        };
        listeners.add(check);
        proc.on('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (alive()) {
        proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        const info = await exited;
        clearTimeout(timer);
        return info;
      }
      return exited;
    },
  };

  if (options.waitForHealth ?? true) {
    try {
      await waitForHealth(handle.grpcAddress, { timeoutMs: options.timeoutMs ?? 60_000, isAlive: alive });
    } catch (err) {
      await handle.stop('SIGKILL');
      throw new Error(`${name} did not become healthy: ${(err as Error).message}\n--- output ---\n${out}`);
    }
  }
  return handle;
}
