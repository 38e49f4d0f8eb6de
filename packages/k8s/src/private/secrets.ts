// Credentials and TLS material of the release: the NATS passwords and the gateway's bearer token (Secrets the
// chart creates, or ones the user names), and how each pod reads them (secretKeyRef env, a projected TLS volume).
import { randomInt } from 'node:crypto';
import { type Identity, identityNames } from '@emoverse/bus';
import type { V1EnvVar, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { labels, objectName } from './names.js';
import type { EmoverseValues, Release } from './values.js';

/** The Secret holding one password per NATS identity, under a key named as the identity. */
export function natsAuthSecretName(values: EmoverseValues, release: Release): string {
  return values.nats.auth.existingSecret || objectName(release, 'nats-auth');
}

/** The Secret holding the gateway's bearer token under `token`. */
export function gatewayAuthSecretName(values: EmoverseValues, release: Release): string {
  return values.gateway.auth.existingSecret || objectName(release, 'gateway-auth');
}
export const gatewayTokenKey = 'token';

/** The server certificate of NATS (tls.crt, tls.key, ca.crt); clients mount only its ca.crt. */
export function natsTlsSecretName(values: EmoverseValues, release: Release): string {
  return values.nats.tls.secretName || objectName(release, 'nats-tls');
}

/** With mTLS: the client certificate (tls.crt, tls.key) every service presents to NATS. */
export function natsClientTlsSecretName(values: EmoverseValues, release: Release): string {
  return values.nats.tls.mtls.clientSecretName || objectName(release, 'nats-client-tls');
}

/** Length of a generated password or token (the template's `emoverse.randomSecret` makes the same shape). */
export const generatedSecretLength = 32;
/** The shape of a generated value: nats-server reads a password from its environment as config, so letters and digits, a letter first. */
export const generatedSecretPattern = new RegExp(`^[A-Za-z][A-Za-z0-9]{${generatedSecretLength - 1}}$`);

const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const alphanumeric = `${letters}0123456789`;

/** A random secret value: one letter, then letters and digits (crypto.randomInt, like sprig's randAlpha/randAlphaNum). */
export function randomSecretValue(): string {
  let out = letters[randomInt(letters.length)];
  while (out.length < generatedSecretLength) out += alphanumeric[randomInt(alphanumeric.length)];
  return out;
}

/** Makes the value of one generated Secret key. Tests pass a fixed one to compare two renders. */
export type SecretGenerator = (secretName: string, key: string) => string;
export const randomSecrets: SecretGenerator = () => randomSecretValue();

const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The Secrets the chart creates: <release>-nats-auth (a password per NATS identity, unless
 * nats.auth.existingSecret) and <release>-gateway-auth (the bearer token, unless the gateway's auth is off or
 * gateway.auth.existingSecret). Helm keeps their values across upgrades with `lookup`; here they are new.
 */
export function buildSecrets(
  values: EmoverseValues,
  release: Release,
  generate: SecretGenerator = randomSecrets,
): V1Secret[] {
  const out: V1Secret[] = [];
  const secret = (name: string, component: string, keys: readonly string[]): V1Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: release.namespace, labels: labels(release, component) },
    type: 'Opaque',
    data: Object.fromEntries(keys.map((k) => [k, base64(generate(name, k))])),
  });
  if (!values.nats.auth.existingSecret)
    out.push(secret(natsAuthSecretName(values, release), 'nats', identityNames));
  if (values.gateway.enabled && values.gateway.auth.enabled && !values.gateway.auth.existingSecret)
    out.push(secret(gatewayAuthSecretName(values, release), 'gateway', [gatewayTokenKey]));
  return out;
}

const secretRef = (name: string, key: string) => ({ secretKeyRef: { name, key } });

/** Where every client pod mounts the NATS CA (and, with mTLS, its client certificate). */
export const natsClientTlsMountPath = '/etc/emoverse-tls/nats';
export const natsClientTlsVolumeName = 'nats-tls';

/**
 * The NATS connection env of a pod connecting as `identity` (service-kit's names): NATS_USER and NATS_PASSWORD
 * from the identity's own key of the auth Secret, and the TLS files when TLS is on.
 */
export function natsClientEnv(values: EmoverseValues, release: Release, identity: Identity): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: 'NATS_USER', value: identity },
    { name: 'NATS_PASSWORD', valueFrom: secretRef(natsAuthSecretName(values, release), identity) },
  ];
  if (values.nats.tls.enabled) {
    env.push({ name: 'NATS_TLS_CA', value: `${natsClientTlsMountPath}/ca.crt` });
    if (values.nats.tls.mtls.enabled) {
      env.push(
        { name: 'NATS_TLS_CERT', value: `${natsClientTlsMountPath}/tls.crt` },
        { name: 'NATS_TLS_KEY', value: `${natsClientTlsMountPath}/tls.key` },
      );
    }
  }
  return env;
}

/** The gateway's EMOVERSE_AUTH_TOKEN from its Secret (none when the gateway's auth is off). */
export function gatewayAuthEnv(values: EmoverseValues, release: Release): V1EnvVar[] {
  if (!values.gateway.auth.enabled) return [];
  return [
    {
      name: 'EMOVERSE_AUTH_TOKEN',
      valueFrom: secretRef(gatewayAuthSecretName(values, release), gatewayTokenKey),
    },
  ];
}

/**
 * The client TLS volume: one projected volume with only the CA of the server's Secret (its private key never
 * reaches a client pod) and, with mTLS, the client certificate and key.
 */
export function natsClientTlsMounts(
  values: EmoverseValues,
  release: Release,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!values.nats.tls.enabled) return { volumes: [], mounts: [] };
  const sources = [
    { secret: { name: natsTlsSecretName(values, release), items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
  ];
  if (values.nats.tls.mtls.enabled) {
    sources.push({
      secret: {
        name: natsClientTlsSecretName(values, release),
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
      },
    });
  }
  return {
    volumes: [{ name: natsClientTlsVolumeName, projected: { sources } }],
    mounts: [{ name: natsClientTlsVolumeName, mountPath: natsClientTlsMountPath, readOnly: true }],
  };
}
