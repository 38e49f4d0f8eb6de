import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackChild, untrackChild } from './children.js';
import { freePort } from './ports.js';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** JetStream store folder (kept across restart(), removed by stop()). */
  storeDir: string;
  /** Stops the server and starts it again on the same port and store (JetStream state survives). */
  restart(): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes the store unless keepStore. */
  stop(): Promise<void>;
}

export interface StartNatsOptions {
  /** Milliseconds to wait for "Server is ready" (default 15000). */
  timeoutMs?: number;
  /** Keep the store folder on stop() (default false). */
  keepStore?: boolean;
}

function natsServerBinary(): string {
  const found = spawnSync(
    'sh',
    ['-c', 'command -v nats-server || ls /usr/sbin/nats-server /usr/bin/nats-server'],
    {
      encoding: 'utf8',
    },
  );
  const path = found.stdout
    .split('\n')
    .find((l) => l.trim().length > 0)
    ?.trim();
  if (!path) {
    throw new Error(
      "nats-server not found: run `bash scripts/setup-system.sh` (installs Debian's nats-server)",
    );
  }
  return path;
}

/**
 * Starts Debian's real nats-server with JetStream on a free loopback port and a fresh store folder,
 * resolving once it logs that it is ready. No in-memory stand-in.
 */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServer> {
  const binary = natsServerBinary();
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'emoverse-nats-'));
  const timeoutMs = options.timeoutMs ?? 15_000;
  let child: ChildProcess | undefined;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      trackChild(proc);
      let log = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`nats-server did not become ready in ${timeoutMs} ms:\n${log}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          proc.stdout?.off('data', onData);
          proc.stderr?.off('data', onData);
          // Keep draining so a chatty server never blocks on a full pipe.
          proc.stdout?.resume();
          proc.stderr?.resume();
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited early (code ${code}, signal ${signal}):\n${log}`));
      });
    });

  const halt = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    untrackChild(proc);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      if (!options.keepStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
