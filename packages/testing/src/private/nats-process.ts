// What a single nats-server and a cluster of them share: the binary, the generated users, spawning until ready, stopping, and how a client of one identity reaches them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild, untrackChild } from './children.js';
import { repoRoot } from './paths.js';

/**
 * The users and permissions every NATS of EmoVerse runs with, generated from packages/bus/src/permissions.ts
 * (a bus test keeps it equal to the table); the chart's NATS config includes the same file.
 */
export function natsAuthorizationFile(): string {
  return join(repoRoot(), 'deploy', 'helm', 'emoverse', 'files', 'nats-authorization.conf');
}

/** The users of the authorization file and the environment variable that holds each one's password. */
export function natsUsers(config = readFileSync(natsAuthorizationFile(), 'utf8')): Map<string, string> {
  const users = new Map<string, string>();
  for (const m of config.matchAll(/\{ user: "([^"]+)", password: \$([A-Z0-9_]+)/g)) users.set(m[1], m[2]);
  if (users.size === 0) throw new Error(`no users in ${natsAuthorizationFile()}`);
  return users;
}

/** A random password nats-server reads as a string from config or its environment (a letter, then hex). */
export function randomPassword(): string {
  return `p${randomBytes(18).toString('hex')}`;
}

/** The generated users with fresh passwords: the config block, the server's environment and each password. */
export interface GeneratedUsers {
  conf: string;
  serverEnv: Record<string, string>;
  passwords: Map<string, string>;
}

export function generatedUsers(): GeneratedUsers {
  const conf = readFileSync(natsAuthorizationFile(), 'utf8');
  const serverEnv: Record<string, string> = {};
  const passwords = new Map<string, string>();
  for (const [user, variable] of natsUsers(conf)) {
    const password = randomPassword();
    passwords.set(user, password);
    serverEnv[variable] = password;
  }
  return { conf, serverEnv, passwords };
}

/** What a client needs to reach the server(s) as one identity: the shape of @emoverse/bus's BusOptions. */
export interface NatsClientOptions {
  servers: string | string[];
  auth: { user?: string; pass?: string; tls?: { caFile: string; certFile?: string; keyFile?: string } };
}

/** How one identity reaches a server or cluster: its password, its service environment, its client options. */
export interface IdentityAccess {
  password(identity: string): string;
  env(identity: string): Record<string, string>;
  client(identity?: string): NatsClientOptions;
}

/** Builds IdentityAccess for the given URLs; users undefined means an open server. */
export function identityAccess(
  urls: string[],
  users: Map<string, string> | undefined,
  tls?: NatsClientOptions['auth']['tls'],
): IdentityAccess {
  const password = (identity: string) => {
    const p = users?.get(identity);
    if (p === undefined) {
      throw new Error(
        users
          ? `no NATS user ${JSON.stringify(identity)}: the users are ${[...users.keys()].join(', ')}`
          : 'this nats-server was started with auth: false',
      );
    }
    return p;
  };
  return {
    password,
    env(identity) {
      return {
        NATS_URL: urls.join(','),
        ...(users ? { NATS_USER: identity, NATS_PASSWORD: password(identity) } : {}),
        ...(tls ? { NATS_TLS_CA: tls.caFile } : {}),
        ...(tls?.certFile ? { NATS_TLS_CERT: tls.certFile, NATS_TLS_KEY: tls.keyFile! } : {}),
      };
    },
    client(identity = 'operator') {
      return {
        servers: urls.length === 1 ? urls[0] : urls,
        auth: { ...(users ? { user: identity, pass: password(identity) } : {}), ...(tls ? { tls } : {}) },
      };
    },
  };
}

export function natsServerBinary(): string {
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

/** Spawns nats-server with these arguments and resolves once it logs "Server is ready" (or `ready`). */
export function spawnNatsServer(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  ready = 'Server is ready',
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(natsServerBinary(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    trackChild(proc);
    let log = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`nats-server did not become ready in ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(ready)) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stderr?.off('data', onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        proc.stdout?.resume();
        proc.stderr?.resume();
        resolve(proc);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited early (code ${code}, signal ${signal}):\n${log}`));
    });
  });
}

/** Stops a nats-server: `signal` (default SIGTERM), SIGKILL after 5 s; resolves once it exited. */
export async function haltNatsServer(proc: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  untrackChild(proc);
}
