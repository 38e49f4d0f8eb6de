// TLS material of the services: each gRPC server's certificate Secret, how a pod mounts it (service-kit's
// EMOVERSE_TLS_CERT/EMOVERSE_TLS_KEY), and the cert-manager `Certificate` objects that fill every TLS Secret
// of the release when certManager.enabled (otherwise the Secrets are the user's).

import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { components, labels, objectName } from './names.js';
import { natsClientTlsSecretName, natsTlsSecretName } from './secrets.js';
import type { EmoverseValues, Release } from './values.js';

/** The Secret (kubernetes.io/tls: tls.crt, tls.key) with a service's gRPC server certificate. */
export function grpcTlsSecretName(release: Release, component: string): string {
  return objectName(release, `${component}-grpc-tls`);
}

/** Where a service mounts its own certificate and key (nothing else of the Secret). */
export const grpcTlsMountPath = '/etc/emoverse-tls/grpc';
export const grpcTlsVolumeName = 'grpc-tls';

/** service-kit's variables: with both set the gRPC port serves TLS. */
export function grpcTlsEnv(values: EmoverseValues): V1EnvVar[] {
  if (!values.grpcTls.enabled) return [];
  return [
    { name: 'EMOVERSE_TLS_CERT', value: `${grpcTlsMountPath}/tls.crt` },
    { name: 'EMOVERSE_TLS_KEY', value: `${grpcTlsMountPath}/tls.key` },
  ];
}

export function grpcTlsMounts(
  values: EmoverseValues,
  release: Release,
  component: string,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!values.grpcTls.enabled) return { volumes: [], mounts: [] };
  const items = [
    { key: 'tls.crt', path: 'tls.crt' },
    { key: 'tls.key', path: 'tls.key' },
  ];
  return {
    volumes: [
      { name: grpcTlsVolumeName, secret: { secretName: grpcTlsSecretName(release, component), items } },
    ],
    mounts: [{ name: grpcTlsVolumeName, mountPath: grpcTlsMountPath, readOnly: true }],
  };
}

/** The names a client may dial a Service by, inside the cluster. */
export function serviceDnsNames(release: Release, service: string): string[] {
  const base = objectName(release, service);
  const ns = release.namespace;
  return [base, `${base}.${ns}`, `${base}.${ns}.svc`, `${base}.${ns}.svc.cluster.local`];
}

/**
 * The NATS server's names: its client Service, and every pod behind the headless Service, which is how
 * the cluster routes dial each other (nats.ts natsConfig), so one certificate serves clients and routes.
 */
export function natsDnsNames(release: Release): string[] {
  const headless = `*.${objectName(release, 'nats-headless')}.${release.namespace}.svc`;
  return [...serviceDnsNames(release, 'nats'), headless, `${headless}.cluster.local`];
}

type Usage = 'server auth' | 'client auth';

function certificate(
  values: EmoverseValues,
  release: Release,
  o: { name: string; component: string; secretName: string; dnsNames?: string[]; usages: Usage[] },
): ICertificate {
  const cm = values.certManager;
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: o.name, namespace: release.namespace, labels: labels(release, o.component) },
    spec: {
      secretName: o.secretName,
      issuerRef: { ...cm.issuerRef },
      duration: cm.duration,
      renewBefore: cm.renewBefore,
      // A client certificate names an identity, not a host.
      ...(o.dnsNames ? { dnsNames: o.dnsNames } : { commonName: o.name }),
      // A new key at every renewal, so a leaked key stops working with the certificate it came with.
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['digital signature', ...o.usages],
    },
  };
}

/**
 * With certManager.enabled: one Certificate per TLS Secret the release reads. Each enabled service's gRPC
 * certificate (the gateway's with certManager.gatewayDnsNames too); the embedded NATS server's, used for
 * client connections and, with a cluster, for the routes (so it is a server and a client certificate);
 * and, with mTLS, the client certificate the services present to NATS.
 */
export function buildCertificates(values: EmoverseValues, release: Release): ICertificate[] {
  if (!values.certManager.enabled) return [];
  const out: ICertificate[] = [];
  if (values.nats.tls.enabled) {
    if (values.nats.mode === 'embedded') {
      out.push(
        certificate(values, release, {
          name: objectName(release, 'nats-tls'),
          component: 'nats',
          secretName: natsTlsSecretName(values, release),
          dnsNames: natsDnsNames(release),
          usages: ['server auth', 'client auth'],
        }),
      );
    }
    if (values.nats.tls.mtls.enabled) {
      out.push(
        certificate(values, release, {
          name: objectName(release, 'nats-client-tls'),
          component: 'nats',
          secretName: natsClientTlsSecretName(values, release),
          usages: ['client auth'],
        }),
      );
    }
  }
  if (!values.grpcTls.enabled) return out;
  for (const { component, key } of components) {
    if (!values[key].enabled) continue;
    const extra = component === 'gateway' ? values.certManager.gatewayDnsNames : [];
    out.push(
      certificate(values, release, {
        name: grpcTlsSecretName(release, component),
        component,
        secretName: grpcTlsSecretName(release, component),
        dnsNames: [...serviceDnsNames(release, component), ...extra],
        usages: ['server auth'],
      }),
    );
  }
  return out;
}
