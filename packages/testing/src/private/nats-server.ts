import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates, type TestCertificates } from './certificates.js';
import { trackChild, untrackChild } from './children.js';
import { repoRoot } from './paths.js';
import { freePort } from './ports.js';

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

/** What a client needs to reach the server as one identity: the shape of @emoverse/bus's BusOptions. */
export interface NatsClientOptions {
  servers: string;
  auth: { user?: string; pass?: string; tls?: { caFile: string; certFile?: string; keyFile?: string } };
}

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
  /** Whether clients must log in (the default: the generated users and permissions). */
  auth: boolean;
  /** The server's TLS files when started with `tls` (CA, server and client certificates). */
  certificates?: TestCertificates;
  /** The password of an identity (e.g. 'gateway', 'operator'); throws for an unknown one. */
  password(identity: string): string;
  /**
   * The environment a service started as this identity reads (NATS_URL, NATS_USER, NATS_PASSWORD and,
   * with TLS, NATS_TLS_CA and for mTLS NATS_TLS_CERT/NATS_TLS_KEY).
   */
  env(identity: string): Record<string, string>;
  /** Options for connectBus / connect as this identity (default 'operator'). */
  client(identity?: string): NatsClientOptions;
}

export interface StartNatsOptions {
  /** Milliseconds to wait for "Server is ready" (default 15000). */
  timeoutMs?: number;
  /** Keep the store folder on stop() (default false). */
  keepStore?: boolean;
  /** Require the generated users and permissions (default true); false: anyone may connect. */
  auth?: boolean;
  /** Serve TLS with certificates made now ('mtls': clients must present one too). */
  tls?: 'tls' | 'mtls';
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
  const auth = options.auth ?? true;
  let child: ChildProcess | undefined;
  const confDir = mkdtempSync(join(tmpdir(), 'emoverse-nats-conf-'));
  const certificates = options.tls ? makeTestCertificates() : undefined;
  const passwords = new Map<string, string>();
  const serverEnv: Record<string, string> = {};
  const conf: string[] = [];
  if (auth) {
    const authorization = readFileSync(natsAuthorizationFile(), 'utf8');
    for (const [user, variable] of natsUsers(authorization)) {
      // nats-server parses the variable's value as config: letters and digits, starting with a letter, read as a string.
      const password = `p${randomBytes(18).toString('hex')}`;
      passwords.set(user, password);
      serverEnv[variable] = password;
    }
    conf.push(authorization);
  }
  if (certificates) {
    conf.push(
      'tls {',
      `  cert_file: ${JSON.stringify(certificates.serverCert)}`,
      `  key_file: ${JSON.stringify(certificates.serverKey)}`,
      `  ca_file: ${JSON.stringify(certificates.ca)}`,
      ...(options.tls === 'mtls' ? ['  verify: true'] : []),
      '}',
    );
  }
  const confFile = join(confDir, 'nats.conf');
  writeFileSync(confFile, `${conf.join('\n')}\n`, { mode: 0o600 });
  const url = `nats://127.0.0.1:${port}`;
  const password = (identity: string) => {
    const p = passwords.get(identity);
    if (p === undefined) {
      throw new Error(
        auth
          ? `no NATS user ${JSON.stringify(identity)}: the users are ${[...passwords.keys()].join(', ')}`
          : 'this nats-server was started with auth: false',
      );
    }
    return p;
  };
  const tlsFiles = () =>
    certificates
      ? {
          caFile: certificates.ca,
          ...(options.tls === 'mtls'
            ? { certFile: certificates.clientCert, keyFile: certificates.clientKey }
            : {}),
        }
      : undefined;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        binary,
        ['-c', confFile, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...serverEnv } },
      );
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

  try {
    await launch();
  } catch (err) {
    rmSync(confDir, { recursive: true, force: true });
    certificates?.remove();
    throw err;
  }
  return {
    url,
    port,
    storeDir,
    auth,
    certificates,
    password,
    env(identity) {
      const tls = tlsFiles();
      return {
        NATS_URL: url,
        ...(auth ? { NATS_USER: identity, NATS_PASSWORD: password(identity) } : {}),
        ...(tls ? { NATS_TLS_CA: tls.caFile } : {}),
        ...(tls?.certFile ? { NATS_TLS_CERT: tls.certFile, NATS_TLS_KEY: tls.keyFile! } : {}),
      };
    },
    client(identity = 'operator') {
      const tls = tlsFiles();
      return {
        servers: url,
        auth: {
          ...(auth ? { user: identity, pass: password(identity) } : {}),
          ...(tls ? { tls } : {}),
        },
      };
    },
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(confDir, { recursive: true, force: true });
      certificates?.remove();
      if (!options.keepStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
