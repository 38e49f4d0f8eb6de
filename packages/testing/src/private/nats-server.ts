// A real nats-server with JetStream on a free loopback port, running the generated users and permissions.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates, type TestCertificates } from './certificates.js';
import {
  generatedUsers,
  haltNatsServer,
  type IdentityAccess,
  identityAccess,
  type NatsClientOptions,
  spawnNatsServer,
} from './nats-process.js';
import { freePort } from './ports.js';

export { type NatsClientOptions, natsAuthorizationFile, natsUsers } from './nats-process.js';

export interface NatsServer extends IdentityAccess {
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

/**
 * Starts Debian's real nats-server with JetStream on a free loopback port and a fresh store folder,
 * resolving once it logs that it is ready. No in-memory stand-in.
 */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'emoverse-nats-'));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const auth = options.auth ?? true;
  let child: ChildProcess | undefined;
  const confDir = mkdtempSync(join(tmpdir(), 'emoverse-nats-conf-'));
  const certificates = options.tls ? makeTestCertificates() : undefined;
  const users = auth ? generatedUsers() : undefined;
  const conf: string[] = users ? [users.conf] : [];
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
  const tls = certificates
    ? {
        caFile: certificates.ca,
        ...(options.tls === 'mtls'
          ? { certFile: certificates.clientCert, keyFile: certificates.clientKey }
          : {}),
      }
    : undefined;
  const access = identityAccess([url], users?.passwords, tls);
  const launch = async () => {
    child = await spawnNatsServer(
      ['-c', confFile, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
      users?.serverEnv ?? {},
      timeoutMs,
    );
  };
  const halt = async () => {
    const proc = child;
    child = undefined;
    await haltNatsServer(proc);
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
    ...access,
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
