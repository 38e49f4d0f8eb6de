// NATS credentials and TLS from the environment (NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE, NATS_CREDS_FILE, NATS_TLS_*); a bad one stops start-up naming the variable.
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type NatsAuthOptions, nkeyAuthenticator, nkeys } from '@emoverse/bus';
import { ConfigError } from './errors.js';

/** The variables read here, as they appear in the environment (empty strings count as unset). */
export interface NatsAuthEnv {
  NATS_URL?: string;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_NKEY_SEED_FILE?: string;
  NATS_CREDS_FILE?: string;
  NATS_TLS_CA?: string;
  NATS_TLS_CERT?: string;
  NATS_TLS_KEY?: string;
}

/** Every variable of the NATS connection besides NATS_URL (passed on to processes that connect as the same identity). */
export const natsVariables = [
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_NKEY_SEED_FILE',
  'NATS_CREDS_FILE',
  'NATS_TLS_CA',
  'NATS_TLS_CERT',
  'NATS_TLS_KEY',
] as const;

export const credentialVariables =
  'NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE';

function readVariable(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}=${JSON.stringify(path)}: ${(err as Error).message}`);
  }
}

/** Which credential variables are set, e.g. 'NATS_USER/NATS_PASSWORD'; undefined when none is. */
export function credentialSource(env: NatsAuthEnv): string | undefined {
  if (env.NATS_USER || env.NATS_PASSWORD) return 'NATS_USER/NATS_PASSWORD';
  if (env.NATS_TOKEN) return 'NATS_TOKEN';
  if (env.NATS_NKEY_SEED_FILE) return 'NATS_NKEY_SEED_FILE';
  if (env.NATS_CREDS_FILE) return 'NATS_CREDS_FILE';
  return undefined;
}

/**
 * The credentials and TLS options of the NATS connection. Throws ConfigError naming the variable when
 * a pair is half set, two kinds of credential are set, a file cannot be read or a seed or creds file is
 * malformed. No credential at all is allowed here (a server without auth); the server refuses it otherwise.
 */
export function natsAuthFromEnv(env: NatsAuthEnv): NatsAuthOptions {
  const set = (v: string | undefined) => v !== undefined && v !== '';
  const kinds = [
    set(env.NATS_USER) || set(env.NATS_PASSWORD) ? 'NATS_USER/NATS_PASSWORD' : undefined,
    set(env.NATS_TOKEN) ? 'NATS_TOKEN' : undefined,
    set(env.NATS_NKEY_SEED_FILE) ? 'NATS_NKEY_SEED_FILE' : undefined,
    set(env.NATS_CREDS_FILE) ? 'NATS_CREDS_FILE' : undefined,
  ].filter((k): k is string => k !== undefined);
  if (kinds.length > 1) throw new ConfigError(`set one kind of NATS credential, not ${kinds.join(' and ')}`);
  const out: NatsAuthOptions = {};
  if (set(env.NATS_USER) !== set(env.NATS_PASSWORD)) {
    throw new ConfigError(
      set(env.NATS_USER)
        ? 'NATS_PASSWORD (unset): NATS_USER is set, so NATS_PASSWORD must be too'
        : 'NATS_USER (unset): NATS_PASSWORD is set, so NATS_USER must be too',
    );
  }
  if (set(env.NATS_USER)) {
    out.user = env.NATS_USER;
    out.pass = env.NATS_PASSWORD;
  } else if (set(env.NATS_TOKEN)) {
    out.token = env.NATS_TOKEN;
  } else if (set(env.NATS_NKEY_SEED_FILE)) {
    const seed = readVariable('NATS_NKEY_SEED_FILE', env.NATS_NKEY_SEED_FILE!).trim();
    try {
      const kp = nkeys.fromSeed(new TextEncoder().encode(seed));
      if (!kp.getPublicKey().startsWith('U')) throw new Error('not a user seed (SU...)');
    } catch (err) {
      throw new ConfigError(
        `NATS_NKEY_SEED_FILE=${JSON.stringify(env.NATS_NKEY_SEED_FILE)}: not an nkey user seed: ${(err as Error).message}`,
      );
    }
    out.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  } else if (set(env.NATS_CREDS_FILE)) {
    const creds = readVariable('NATS_CREDS_FILE', env.NATS_CREDS_FILE!);
    if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds)) {
      throw new ConfigError(
        `NATS_CREDS_FILE=${JSON.stringify(env.NATS_CREDS_FILE)}: not a NATS creds file (a user JWT and an nkey seed)`,
      );
    }
    out.authenticator = credsAuthenticator(new TextEncoder().encode(creds));
  }
  if (set(env.NATS_TLS_CERT) !== set(env.NATS_TLS_KEY)) {
    throw new ConfigError(
      'NATS_TLS_CERT and NATS_TLS_KEY must be set together (the client certificate for mTLS)',
    );
  }
  if (set(env.NATS_TLS_CA) || set(env.NATS_TLS_CERT)) {
    // Read here so a missing file names its variable; the client reads the same files again.
    if (set(env.NATS_TLS_CA)) readVariable('NATS_TLS_CA', env.NATS_TLS_CA!);
    if (set(env.NATS_TLS_CERT)) {
      readVariable('NATS_TLS_CERT', env.NATS_TLS_CERT!);
      readVariable('NATS_TLS_KEY', env.NATS_TLS_KEY!);
    }
    out.tls = {
      ...(set(env.NATS_TLS_CA) ? { caFile: env.NATS_TLS_CA } : {}),
      ...(set(env.NATS_TLS_CERT) ? { certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY } : {}),
    };
  }
  return out;
}

/**
 * The reason a connection failed, in terms of the variables: refused credentials name the ones that
 * were used, a server that wants credentials names the ones that can carry them.
 */
export function explainConnectError(env: NatsAuthEnv, err: Error): string {
  const url = `NATS_URL=${JSON.stringify(env.NATS_URL ?? '')}`;
  const source = credentialSource(env);
  if (
    /authorization violation|authentication|AUTHORIZATION_VIOLATION/i.test(
      `${err.message} ${(err as { code?: string }).code ?? ''}`,
    )
  ) {
    return source
      ? `NATS at ${url} refused the credentials in ${source}${env.NATS_USER ? ` (user ${JSON.stringify(env.NATS_USER)})` : ''}: ${err.message}`
      : `NATS at ${url} requires credentials: set ${credentialVariables}`;
  }
  if (/tls|certificate|self.signed|SSL/i.test(err.message)) {
    return `cannot connect to ${url} over TLS (check NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY): ${err.message}`;
  }
  return `cannot connect to ${url}: ${err.message}`;
}
