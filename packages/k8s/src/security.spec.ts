// Secure by default: the chart's rendered NATS holds every identity of the permission table, each pod gets only its own
// credentials, TLS (NATS, NATS routes, every gRPC port) and the gateway token are on, cert-manager can fill every TLS
// Secret, NetworkPolicies deny by default and open only the needed flows, every pod meets Pod Security "restricted",
// generated Secrets survive an upgrade, and the rendered NATS (one server, and values-ha's three) really runs that way.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { grants, identityNames, inboxPrefix, natsAuthorizationConfig, passwordVariable } from '@emoverse/bus';
import { eventually, freePort, makeTestCertificates, type TestCertificates } from '@emoverse/testing';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1NetworkPolicy,
  V1PodSpec,
  V1Secret,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { connect, type NatsConnection } from 'nats';
import { stringify } from 'yaml';
import {
  buildTrainingJob,
  components,
  defaultRelease,
  defaultValues,
  type EmoverseValues,
  generatedSecretPattern,
  mergeValues,
  podSpecOf,
  readTrainingJobConfig,
  renderManifests,
  restrictedViolations,
  validateObject,
} from './index.js';
import { renderChartTemplates } from './private/chart-renderer.js';
import { chartDir } from './private/repo-paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'emoverse-security-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const release = defaultRelease;
const find = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name) as T | undefined;
const envOf = (spec: V1PodSpec | undefined): V1EnvVar[] => spec?.containers[0].env ?? [];
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** Both renders of one value set: the chart's real templates (Go) and renderManifests (TypeScript). */
function bothSides(set: string[] = [], values: EmoverseValues = defaultValues()) {
  return {
    template: renderChartTemplates({ set, release }).map((r) => r.object),
    typed: renderManifests(values, release),
  };
}
const defaults = bothSides();
const mtls = bothSides(
  ['nats.tls.mtls.enabled=true'],
  mergeValues(defaultValues(), { nats: { tls: { mtls: { enabled: true } } } }),
);

/** The training Job the trainer would submit, built from the chart's ConfigMap as the trainer reads it. */
async function trainingJobFrom(objects: KubernetesObject[]) {
  const cm = find<V1ConfigMap>(objects, 'ConfigMap', `${release.name}-training-job`);
  const file = join(scratch, `training-job-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, cm?.data?.['training-job.json'] ?? '');
  return buildTrainingJob({ runId: 'r1', recipe: 'recipes/a.yaml' }, await readTrainingJobConfig(file));
}

describe('NATS identities and credentials in the chart', () => {
  for (const [side, objects] of Object.entries(defaults)) {
    test(`${side}: the NATS config holds every identity of the permission table, each with its password variable`, () => {
      const conf = find<V1ConfigMap>(objects, 'ConfigMap', `${release.name}-nats`)?.data?.['nats.conf'] ?? '';
      assert.ok(
        conf.includes(natsAuthorizationConfig().trim()),
        'the generated authorization block, verbatim',
      );
      for (const id of identityNames) {
        assert.match(
          conf,
          new RegExp(`\\{ user: "${id}", password: \\$${passwordVariable(id)}, permissions`),
        );
      }
      // Only the trainer may publish model.published (the table says so, and the config carries the table).
      const publishers = identityNames.filter((id) =>
        grants[id].publishes.some((e) => e.subject === 'emoverse.model.published'),
      );
      assert.deepEqual(publishers, ['trainer']);
      // nats-server gets each password from that identity's key of the auth Secret.
      const nats = find<V1StatefulSet>(objects, 'StatefulSet', `${release.name}-nats`);
      const env = envOf(nats?.spec?.template.spec);
      for (const id of identityNames) {
        const v = env.find((e) => e.name === passwordVariable(id));
        assert.deepEqual(v?.valueFrom?.secretKeyRef, { name: `${release.name}-nats-auth`, key: id });
      }
      // The Secret the chart creates has one generated password per identity.
      const secret = find<V1Secret>(objects, 'Secret', `${release.name}-nats-auth`);
      assert.deepEqual(Object.keys(secret?.data ?? {}), [...identityNames]);
      for (const v of Object.values(secret?.data ?? {})) assert.match(decode(v), generatedSecretPattern);
      assert.deepEqual(validateObject(secret as KubernetesObject), []);
    });

    test(`${side}: each Deployment and the training Job get exactly their own identity's password key`, async () => {
      const pods: Array<[string, V1PodSpec | undefined]> = [
        ...components.map(({ component }): [string, V1PodSpec | undefined] => [
          component,
          find<V1Deployment>(objects, 'Deployment', `${release.name}-${component}`)?.spec?.template.spec,
        ]),
        ['trainer', (await trainingJobFrom(objects)).spec?.template.spec],
      ];
      for (const [identity, spec] of pods) {
        assert.ok(spec, identity);
        const env = envOf(spec);
        const refs = env.filter((e) => e.valueFrom?.secretKeyRef?.name === `${release.name}-nats-auth`);
        assert.deepEqual(
          refs.map((e) => [e.name, e.valueFrom?.secretKeyRef?.key]),
          [['NATS_PASSWORD', identity]],
          `${identity}: one password, its own`,
        );
        assert.equal(env.find((e) => e.name === 'NATS_USER')?.value, identity);
      }
    });

    test(`${side}: TLS to NATS and the gateway's bearer token are on by default`, () => {
      const conf = find<V1ConfigMap>(objects, 'ConfigMap', `${release.name}-nats`)?.data?.['nats.conf'] ?? '';
      assert.match(conf, /^tls \{\n {2}cert_file: \/etc\/nats-tls\/tls\.crt\n/m);
      assert.doesNotMatch(conf, /verify: true/, 'mTLS is optional');
      const nats = find<V1StatefulSet>(objects, 'StatefulSet', `${release.name}-nats`);
      assert.deepEqual(
        nats?.spec?.template.spec?.volumes?.find((v) => v.name === 'tls')?.secret?.secretName,
        `${release.name}-nats-tls`,
      );
      for (const { component } of components) {
        const spec = find<V1Deployment>(objects, 'Deployment', `${release.name}-${component}`)?.spec?.template
          .spec;
        const env = envOf(spec);
        assert.equal(env.find((e) => e.name === 'NATS_TLS_CA')?.value, '/etc/emoverse-tls/nats/ca.crt');
        // Clients get the CA only: the server's private key never reaches them.
        const tls = spec?.volumes?.find((v) => v.name === 'nats-tls');
        assert.deepEqual(tls?.projected?.sources, [
          { secret: { name: `${release.name}-nats-tls`, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        ]);
        const token = env.find((e) => e.name === 'EMOVERSE_AUTH_TOKEN');
        assert.deepEqual(
          token?.valueFrom?.secretKeyRef,
          component === 'gateway' ? { name: `${release.name}-gateway-auth`, key: 'token' } : undefined,
        );
      }
      const token = find<V1Secret>(objects, 'Secret', `${release.name}-gateway-auth`);
      assert.match(decode(token?.data?.token ?? ''), generatedSecretPattern);
    });
  }

  test('mTLS: the server verifies client certificates and every client mounts its own certificate', async () => {
    for (const objects of Object.values(mtls)) {
      const conf = find<V1ConfigMap>(objects, 'ConfigMap', `${release.name}-nats`)?.data?.['nats.conf'] ?? '';
      assert.match(conf, /verify: true/);
      const specs = [
        ...components.map(
          ({ component }) =>
            find<V1Deployment>(objects, 'Deployment', `${release.name}-${component}`)?.spec?.template.spec,
        ),
        (await trainingJobFrom(objects)).spec?.template.spec,
      ];
      for (const spec of specs) {
        const env = Object.fromEntries(envOf(spec).map((e) => [e.name, e.value]));
        assert.equal(env.NATS_TLS_CERT, '/etc/emoverse-tls/nats/tls.crt');
        assert.equal(env.NATS_TLS_KEY, '/etc/emoverse-tls/nats/tls.key');
        const sources = spec?.volumes?.find((v) => v.name === 'nats-tls')?.projected?.sources ?? [];
        assert.deepEqual(
          sources.map((s) => s.secret?.name),
          [`${release.name}-nats-tls`, `${release.name}-nats-client-tls`],
        );
      }
    }
  });

  test('existing Secrets: the chart creates none and every reference names the given ones', () => {
    const values = mergeValues(defaultValues(), {
      nats: { auth: { existingSecret: 'team-nats' } },
      gateway: { auth: { existingSecret: 'team-gateway' } },
    });
    const objects = renderChartTemplates({
      set: ['nats.auth.existingSecret=team-nats,gateway.auth.existingSecret=team-gateway'],
      release,
    }).map((r) => r.object);
    for (const o of [objects, renderManifests(values, release)]) {
      assert.deepEqual(
        o.filter((x) => x.kind === 'Secret'),
        [],
      );
      const json = JSON.stringify(o);
      assert.ok(
        !json.includes(`${release.name}-nats-auth`) && !json.includes(`${release.name}-gateway-auth`),
      );
      assert.match(json, /"secretKeyRef":\{"name":"team-nats","key":"gateway"\}/);
      assert.match(json, /"secretKeyRef":\{"name":"team-gateway","key":"token"\}/);
    }
  });
});

describe('gRPC over TLS, probes, and cert-manager', () => {
  const grpcOf = (objects: KubernetesObject[], component: string) =>
    find<V1Deployment>(objects, 'Deployment', `${release.name}-${component}`)?.spec?.template.spec;

  for (const [side, objects] of Object.entries(defaults)) {
    test(`${side}: every service serves TLS with its own certificate, and is probed on its plaintext health port`, () => {
      for (const { component } of components) {
        const spec = grpcOf(objects, component);
        const container = spec?.containers[0];
        const env = Object.fromEntries(envOf(spec).map((e) => [e.name, e.value]));
        assert.equal(env.EMOVERSE_TLS_CERT, '/etc/emoverse-tls/grpc/tls.crt', component);
        assert.equal(env.EMOVERSE_TLS_KEY, '/etc/emoverse-tls/grpc/tls.key', component);
        // Its own Secret, and of it only the certificate and key: no other service's key is in the pod.
        assert.deepEqual(spec?.volumes?.find((v) => v.name === 'grpc-tls')?.secret, {
          secretName: `${release.name}-${component}-grpc-tls`,
          items: [
            { key: 'tls.crt', path: 'tls.crt' },
            { key: 'tls.key', path: 'tls.key' },
          ],
        });
        assert.deepEqual(
          container?.volumeMounts?.find((m) => m.name === 'grpc-tls'),
          { name: 'grpc-tls', mountPath: '/etc/emoverse-tls/grpc', readOnly: true },
        );
        const health = container?.ports?.find((p) => p.name === 'health')?.containerPort;
        assert.equal(env.EMOVERSE_HEALTH_PORT, String(health));
        for (const probe of [container?.startupProbe, container?.readinessProbe, container?.livenessProbe])
          assert.deepEqual(probe?.grpc, { port: health }, component);
      }
      assert.equal(objects.filter((o) => o.kind === 'Certificate').length, 0, 'cert-manager is opt-in');
    });
  }

  test('grpcTls.enabled=false: plaintext gRPC, no certificate mounted, probes unchanged', () => {
    const off = bothSides(
      ['grpcTls.enabled=false'],
      mergeValues(defaultValues(), { grpcTls: { enabled: false } }),
    );
    for (const objects of Object.values(off)) {
      for (const { component } of components) {
        const spec = grpcOf(objects, component);
        assert.equal(
          spec?.volumes?.find((v) => v.name === 'grpc-tls'),
          undefined,
        );
        assert.ok(!envOf(spec).some((e) => e.name.startsWith('EMOVERSE_TLS_')), component);
        assert.ok(
          envOf(spec).some((e) => e.name === 'EMOVERSE_HEALTH_PORT'),
          component,
        );
      }
    }
  });

  test('cert-manager: a valid Certificate for every TLS Secret any pod mounts, naming what clients dial', async () => {
    const set = [
      'certManager.enabled=true,certManager.issuerRef.name=ca,nats.replicas=3,nats.tls.mtls.enabled=true',
    ];
    const values = mergeValues(defaultValues(), {
      certManager: { enabled: true, issuerRef: { name: 'ca' } },
      nats: { replicas: 3, tls: { mtls: { enabled: true } } },
    });
    for (const [side, objects] of Object.entries(bothSides(set, values))) {
      const certificates = objects.filter((o) => o.kind === 'Certificate') as Array<
        KubernetesObject & { spec: { secretName: string; dnsNames?: string[]; usages: string[] } }
      >;
      for (const c of certificates) assert.deepEqual(validateObject(c), [], `${side}: ${c.metadata?.name}`);
      // Every Secret a pod (a training Job too) mounts is TLS material: each must have its Certificate.
      const specs = [
        ...objects.map(podSpecOf).filter((s): s is V1PodSpec => s !== undefined),
        (await trainingJobFrom(objects)).spec?.template.spec as V1PodSpec,
      ];
      const mounted = new Set(
        specs.flatMap((s) =>
          (s.volumes ?? []).flatMap((v) => [
            ...(v.secret?.secretName ? [v.secret.secretName] : []),
            ...(v.projected?.sources ?? []).flatMap((p) => (p.secret?.name ? [p.secret.name] : [])),
          ]),
        ),
      );
      assert.deepEqual(
        certificates.map((c) => c.spec.secretName).sort(),
        [...mounted].sort(),
        `${side}: one Certificate per mounted TLS Secret`,
      );
      const byName = (name: string) =>
        certificates.find((c) => c.metadata?.name === `${release.name}-${name}`);
      assert.ok(byName('gateway-grpc-tls')?.spec.dnsNames?.includes('emoverse-gateway.emoverse.svc'));
      // The routes dial emoverse-nats-<i>.emoverse-nats-headless.emoverse.svc and present the same certificate.
      const nats = byName('nats-tls')?.spec;
      assert.ok(nats?.dnsNames?.includes('*.emoverse-nats-headless.emoverse.svc'));
      assert.ok(nats?.dnsNames?.includes('emoverse-nats.emoverse.svc'));
      assert.deepEqual(nats?.usages, ['digital signature', 'server auth', 'client auth']);
      assert.deepEqual(byName('nats-client-tls')?.spec.usages, ['digital signature', 'client auth']);
    }
  });
});

describe('generated Secrets across upgrades (lookup)', () => {
  test('an upgrade keeps every generated value; a key missing in the cluster is generated, the rest kept', () => {
    const installed = defaults.template.filter((o) => o.kind === 'Secret') as V1Secret[];
    assert.equal(installed.length, 2);
    // A second install-time render draws new values: they are random, not fixed.
    const again = renderChartTemplates({ release }).filter((r) => r.object.kind === 'Secret');
    assert.notDeepEqual((again[0].object as V1Secret).data, installed[0].data);

    const cluster = join(scratch, 'cluster.yaml');
    writeFileSync(cluster, installed.map((o) => `---\n${stringify(o)}`).join(''));
    const upgraded = renderChartTemplates({ release, lookup: cluster }).filter(
      (r) => r.object.kind === 'Secret',
    );
    assert.deepEqual(
      upgraded.map((r) => r.object),
      installed,
    );

    // An identity added to the table after install (here: its key removed from the cluster's Secret).
    const nats = structuredClone(installed.find((s) => s.metadata?.name === `${release.name}-nats-auth`));
    assert.ok(nats?.data);
    const { gateway: _dropped, ...rest } = nats.data;
    nats.data = rest;
    writeFileSync(cluster, `---\n${stringify(nats)}`);
    const partial = renderChartTemplates({ release, lookup: cluster })
      .map((r) => r.object as V1Secret)
      .find((s) => s.metadata?.name === `${release.name}-nats-auth`);
    for (const id of identityNames) {
      if (id === 'gateway') {
        assert.notEqual(partial?.data?.gateway, installed[0].data?.gateway);
        assert.match(decode(partial?.data?.gateway ?? ''), generatedSecretPattern);
      } else assert.equal(partial?.data?.[id], nats.data[id], id);
    }
  });
});

/** A minimal NetworkPolicy evaluator (ingress and egress, TCP/UDP ports, pod/namespace selectors, ipBlock). */
interface Peer {
  /** In the release's namespace (false: another namespace, or outside the cluster when `ip`). */
  sameNamespace: boolean;
  podLabels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  /** Outside the cluster: matched by ipBlock or by a rule without peers only. */
  ip?: boolean;
}
const selects = (sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) =>
  Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

type Rule = {
  from?: PeerSpec[];
  to?: PeerSpec[];
  ports?: Array<{ port?: number | string; protocol?: string }>;
};
type PeerSpec = {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
};
function peerMatches(p: PeerSpec, peer: Peer): boolean {
  if (p.ipBlock) return peer.ip === true;
  if (peer.ip) return false;
  const nsOk = p.namespaceSelector ? selects(p.namespaceSelector, peer.namespaceLabels) : peer.sameNamespace;
  const podOk = p.podSelector ? selects(p.podSelector, peer.podLabels) : true;
  return nsOk && podOk;
}
/** Whether `direction` traffic between the pod and `peer` on port/protocol is allowed by these policies. */
function allowed(
  policies: V1NetworkPolicy[],
  podLabels: Record<string, string>,
  direction: 'Ingress' | 'Egress',
  peer: Peer,
  port: number,
  protocol = 'TCP',
): boolean {
  const mine = policies.filter(
    (p) => selects(p.spec?.podSelector, podLabels) && (p.spec?.policyTypes ?? []).includes(direction),
  );
  if (mine.length === 0) return true;
  return mine.some((p) =>
    ((direction === 'Ingress' ? p.spec?.ingress : p.spec?.egress) as Rule[] | undefined)?.some((r) => {
      const peers = direction === 'Ingress' ? r.from : r.to;
      const peerOk = !peers || peers.some((x) => peerMatches(x, peer));
      const portOk = !r.ports || r.ports.some((x) => x.port === port && (x.protocol ?? 'TCP') === protocol);
      return peerOk && portOk;
    }),
  );
}

describe('NetworkPolicies', () => {
  const releaseLabels = (component: string) => ({
    'app.kubernetes.io/name': 'emoverse',
    'app.kubernetes.io/instance': release.name,
    'app.kubernetes.io/component': component,
  });
  const inRelease: Peer = { sameNamespace: true, podLabels: releaseLabels('gateway'), namespaceLabels: {} };
  const otherPodSameNamespace: Peer = {
    sameNamespace: true,
    podLabels: { app: 'other' },
    namespaceLabels: {},
  };
  const monitoring: Peer = {
    sameNamespace: false,
    podLabels: { app: 'prometheus' },
    namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
  };
  const outside: Peer = { sameNamespace: false, podLabels: {}, namespaceLabels: {}, ip: true };
  const v = defaultValues();

  for (const [side, objects] of Object.entries(defaults)) {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as V1NetworkPolicy[];

    test(`${side}: exist, validate, and deny all ingress and egress of every pod of the release by default`, async () => {
      assert.ok(policies.length >= 8, `${policies.length} policies`);
      for (const p of policies) assert.deepEqual(validateObject(p), [], p.metadata?.name);
      const deny = policies.find((p) => p.metadata?.name === `${release.name}-default-deny`);
      assert.deepEqual(deny?.spec, {
        podSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'emoverse', 'app.kubernetes.io/instance': release.name },
        },
        policyTypes: ['Ingress', 'Egress'],
      });
      // Every pod of the release (services, NATS, training Jobs) is selected by it.
      const templates = objects
        .map((o) => (o as V1Deployment).spec?.template?.metadata?.labels)
        .filter((l): l is Record<string, string> => l !== undefined);
      templates.push((await trainingJobFrom(objects)).spec?.template.metadata?.labels ?? {});
      assert.equal(templates.length, 7);
      for (const labels of templates)
        assert.ok(selects(deny?.spec?.podSelector, labels), JSON.stringify(labels));
      // A port nobody opened stays closed, even from inside the release.
      assert.equal(allowed(policies, releaseLabels('au-scorer'), 'Ingress', inRelease, 8080), false);
      assert.equal(allowed(policies, releaseLabels('au-scorer'), 'Egress', outside, 443), false);
    });

    test(`${side}: the gateway's gRPC port is the only one reachable from outside the release`, () => {
      for (const { component, key } of components) {
        const s = v[key];
        const labels = releaseLabels(component);
        for (const from of [outside, otherPodSameNamespace]) {
          assert.equal(
            allowed(policies, labels, 'Ingress', from, s.grpcPort),
            component === 'gateway',
            component,
          );
          assert.equal(allowed(policies, labels, 'Ingress', from, s.metricsPort), false, component);
        }
        assert.equal(allowed(policies, labels, 'Ingress', inRelease, s.grpcPort), true, component);
        // Metrics from the monitoring namespace only (telemetry is on by default).
        assert.equal(allowed(policies, labels, 'Ingress', monitoring, s.metricsPort), true, component);
        // The plaintext health port is for the kubelet, whose probes are not pod traffic: no pod reaches it.
        for (const from of [inRelease, monitoring, outside])
          assert.equal(allowed(policies, labels, 'Ingress', from, s.healthPort), false, component);
        assert.equal(allowed(policies, labels, 'Ingress', monitoring, s.grpcPort), component === 'gateway');
      }
    });

    test(`${side}: NATS accepts the release's pods only; services and training reach NATS, DNS and telemetry`, () => {
      const nats = releaseLabels('nats');
      assert.equal(allowed(policies, nats, 'Ingress', inRelease, 4222), true);
      for (const from of [otherPodSameNamespace, monitoring, outside])
        assert.equal(allowed(policies, nats, 'Ingress', from, 4222), false);
      const natsPeer: Peer = { sameNamespace: true, podLabels: nats, namespaceLabels: {} };
      const dns: Peer = {
        sameNamespace: false,
        podLabels: {},
        namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
      };
      for (const component of [...components.map((c) => c.component), 'training']) {
        const labels = releaseLabels(component);
        assert.equal(allowed(policies, labels, 'Egress', natsPeer, 4222), true, component);
        assert.equal(allowed(policies, labels, 'Egress', dns, 53, 'UDP'), true, component);
        assert.equal(allowed(policies, labels, 'Egress', outside, 4317), true, `${component}: OTLP`);
        // Only the trainer controller reaches the API server.
        assert.equal(allowed(policies, labels, 'Egress', outside, 443), component === 'trainer', component);
      }
    });
  }

  test('a 3-node NATS opens its cluster routes to its own pods only; scraping off closes metrics ports', () => {
    const values = mergeValues(defaultValues(), {
      nats: { replicas: 3 },
      telemetry: { prometheus: { scrape: false } },
    });
    const objects = renderChartTemplates({
      set: ['nats.replicas=3,telemetry.prometheus.scrape=false'],
      release,
    }).map((r) => r.object);
    for (const o of [objects, renderManifests(values, release)]) {
      const policies = o.filter((x) => x.kind === 'NetworkPolicy') as V1NetworkPolicy[];
      const nats = releaseLabels('nats');
      const peer: Peer = { sameNamespace: true, podLabels: nats, namespaceLabels: {} };
      assert.equal(allowed(policies, nats, 'Ingress', peer, 6222), true);
      assert.equal(allowed(policies, nats, 'Egress', peer, 6222), true);
      assert.equal(allowed(policies, nats, 'Ingress', inRelease, 6222), false);
      assert.equal(allowed(policies, releaseLabels('gateway'), 'Ingress', monitoring, 9464), false);
    }
  });

  test('networkPolicy.enabled=false renders none', () => {
    const objects = renderChartTemplates({ set: ['networkPolicy.enabled=false'], release });
    assert.equal(objects.filter((r) => r.object.kind === 'NetworkPolicy').length, 0);
  });
});

describe('Pod Security Standards "restricted"', () => {
  for (const [side, objects] of Object.entries({ ...defaults, 'mTLS template': mtls.template })) {
    test(`${side}: every pod spec meets the profile; only the trainer controller mounts a service account token`, async () => {
      const specs: Array<[string, V1PodSpec]> = objects
        .map((o): [string, V1PodSpec | undefined] => [`${o.kind}/${o.metadata?.name}`, podSpecOf(o)])
        .filter((x): x is [string, V1PodSpec] => x[1] !== undefined);
      specs.push(['training Job', (await trainingJobFrom(objects)).spec?.template.spec as V1PodSpec]);
      assert.equal(specs.length, 7);
      for (const [where, spec] of specs) {
        assert.deepEqual(restrictedViolations(spec), [], where);
        const token = where === `Deployment/${release.name}-trainer`;
        assert.equal(spec.automountServiceAccountToken, token ? undefined : false, where);
        assert.equal(spec.serviceAccountName !== undefined, token, where);
      }
    });
  }

  test('the check finds what the profile forbids', () => {
    const spec: V1PodSpec = {
      hostNetwork: true,
      securityContext: { runAsUser: 0 },
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'c',
          ports: [{ containerPort: 80, hostPort: 80 }],
          securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
        },
      ],
    };
    const v = restrictedViolations(spec).join('\n');
    for (const why of [
      /hostNetwork/,
      /volume h: type hostPath/,
      /pod runAsUser must not be 0/,
      /privileged/,
      /hostPort 80/,
      /allowPrivilegeEscalation must be false/,
      /runAsNonRoot must be true/,
      /seccompProfile/,
      /must drop ALL/,
      /capability SYS_ADMIN/,
    ])
      assert.match(v, why);
  });
});

describe("the chart's rendered NATS, run for real with the chart's Secret", () => {
  let certs: TestCertificates;
  let server: ChildProcess | undefined;
  let url = '';
  const dir = join(scratch, 'nats');
  const objects = defaults.template;
  const secret = find<V1Secret>(objects, 'Secret', `${release.name}-nats-auth`) as V1Secret;
  /** What the kubelet would put in a container's env: literal values and the Secret's keys. */
  const resolve = (env: V1EnvVar[]) =>
    Object.fromEntries(
      env.map((e) => [
        e.name,
        e.valueFrom?.secretKeyRef
          ? decode(secret.data?.[e.valueFrom.secretKeyRef.key] ?? '')
          : (e.value ?? ''),
      ]),
    );
  const podEnv = (component: string) =>
    resolve(
      envOf(find<V1Deployment>(objects, 'Deployment', `${release.name}-${component}`)?.spec?.template.spec),
    );

  before(async () => {
    certs = makeTestCertificates();
    const [port, monitor] = [await freePort(), await freePort()];
    const conf = (find<V1ConfigMap>(objects, 'ConfigMap', `${release.name}-nats`)?.data?.['nats.conf'] ?? '')
      .replace(/^port: \d+$/m, `port: ${port}`)
      .replace(/^http_port: \d+$/m, `http_port: ${monitor}`)
      .replace('/data/jetstream', join(dir, 'js'))
      .replace('/etc/nats-tls/tls.crt', certs.serverCert)
      .replace('/etc/nats-tls/tls.key', certs.serverKey)
      .replace('/etc/nats-tls/ca.crt', certs.ca);
    writeFileSync(join(scratch, 'nats.conf'), conf);
    const statefulSet = find<V1StatefulSet>(objects, 'StatefulSet', `${release.name}-nats`);
    const env = {
      PATH: process.env.PATH,
      ...resolve(envOf(statefulSet?.spec?.template.spec)),
      POD_NAME: 'emoverse-nats-0',
    };
    server = spawn('nats-server', ['-c', join(scratch, 'nats.conf')], { env, stdio: 'ignore' });
    url = `nats://127.0.0.1:${port}`;
    await eventually(async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${monitor}/healthz`);
        return res.ok;
      } catch {
        return false;
      }
    }, 'the chart-rendered nats-server to start');
  });
  after(() => {
    server?.kill();
    certs?.remove();
  });

  /** Connects with a pod's env as service-kit reads it (NATS_USER, NATS_PASSWORD, NATS_TLS_CA). */
  async function connectAs(env: Record<string, string>, tls = true): Promise<NatsConnection> {
    return connect({
      servers: url,
      user: env.NATS_USER,
      pass: env.NATS_PASSWORD,
      inboxPrefix: inboxPrefix(env.NATS_USER as (typeof identityNames)[number]),
      ...(tls ? { tls: { caFile: certs.ca } } : {}),
      reconnect: false,
      timeout: 5000,
    });
  }

  test('every service connects over TLS with the credentials its Deployment gets', async () => {
    for (const { component } of components) {
      const env = podEnv(component);
      assert.equal(env.NATS_TLS_CA, '/etc/emoverse-tls/nats/ca.crt');
      const nc = await connectAs(env);
      await nc.flush();
      await nc.close();
    }
  });

  test('refused: no credentials, a wrong password, another identity’s password, no TLS', async () => {
    const gateway = podEnv('gateway');
    await assert.rejects(
      connect({ servers: url, tls: { caFile: certs.ca }, reconnect: false }),
      /authorization/i,
    );
    await assert.rejects(connectAs({ ...gateway, NATS_PASSWORD: 'Wrong0password' }), /authorization/i);
    await assert.rejects(
      connectAs({ ...gateway, NATS_PASSWORD: podEnv('trainer').NATS_PASSWORD }),
      /authorization/i,
    );
    // Without the chart's CA the server's certificate is not trusted.
    await assert.rejects(
      connect({
        servers: url,
        user: gateway.NATS_USER,
        pass: gateway.NATS_PASSWORD,
        reconnect: false,
        tls: {},
      }),
      /certificate|self.signed|unable to verify/i,
    );
  });

  test("the gateway's user may not publish model.published; the trainer's may", async () => {
    const gateway = await connectAs(podEnv('gateway'));
    const errors: string[] = [];
    (async () => {
      for await (const s of gateway.status()) errors.push(String(s.data));
    })();
    gateway.publish('emoverse.model.published');
    await gateway.flush();
    await eventually(() => errors.some((e) => /permission/i.test(e)) || undefined, 'a permissions violation');
    await gateway.close();
    const trainer = await connectAs(podEnv('trainer'));
    const seen: string[] = [];
    (async () => {
      for await (const s of trainer.status()) seen.push(String(s.data));
    })();
    trainer.publish('emoverse.model.published');
    await trainer.flush();
    assert.deepEqual(
      seen.filter((e) => /permission/i.test(e)),
      [],
    );
    await trainer.close();
  });
});

describe("values-ha.yaml's NATS, run for real: three servers whose routes speak TLS, an R3 stream", () => {
  const ha = renderChartTemplates({ valuesFiles: [`${chartDir}/values-ha.yaml`], release }).map(
    (r) => r.object,
  );
  const dir = join(scratch, 'nats-ha');
  const servers: ChildProcess[] = [];
  let certs: TestCertificates;
  let clientPorts: number[] = [];
  let monitorPorts: number[] = [];
  const secret = find<V1Secret>(ha, 'Secret', `${release.name}-nats-auth`) as V1Secret;
  const statefulSet = find<V1StatefulSet>(ha, 'StatefulSet', `${release.name}-nats`);
  const template = find<V1ConfigMap>(ha, 'ConfigMap', `${release.name}-nats`)?.data?.['nats.conf'] ?? '';

  /** The rendered config for server i on loopback: its ports and store, routes to localhost, the test CA. */
  const configFor = (i: number, clusterPorts: number[]) =>
    template
      .replace(/^port: \d+$/m, `port: ${clientPorts[i]}`)
      .replace(/^http_port: \d+$/m, `http_port: ${monitorPorts[i]}`)
      .replace('/data/jetstream', join(dir, `js-${i}`))
      .replace(/^ {2}port: 6222$/m, `  port: ${clusterPorts[i]}`)
      .replace(/routes: \[.*\]/, `routes: [${clusterPorts.map((p) => `nats://localhost:${p}`).join(', ')}]`)
      .replaceAll('/etc/nats-tls/tls.crt', certs.serverCert)
      .replaceAll('/etc/nats-tls/tls.key', certs.serverKey)
      .replaceAll('/etc/nats-tls/ca.crt', certs.ca);

  before(async () => {
    certs = makeTestCertificates();
    const ports = async () => Promise.all([0, 1, 2].map(() => freePort()));
    [clientPorts, monitorPorts] = [await ports(), await ports()];
    const clusterPorts = await ports();
    const env = Object.fromEntries(
      envOf(statefulSet?.spec?.template.spec).map((e) => [
        e.name,
        e.valueFrom?.secretKeyRef
          ? decode(secret.data?.[e.valueFrom.secretKeyRef.key] ?? '')
          : (e.value ?? ''),
      ]),
    );
    for (const i of [0, 1, 2]) {
      const file = join(scratch, `nats-ha-${i}.conf`);
      writeFileSync(file, configFor(i, clusterPorts));
      const podEnv = { PATH: process.env.PATH, ...env, POD_NAME: `${release.name}-nats-${i}` };
      const log = openSync(join(scratch, `nats-ha-${i}.log`), 'w');
      servers.push(spawn('nats-server', ['-c', file], { env: podEnv, stdio: ['ignore', log, log] }));
    }
  });
  after(() => {
    for (const s of servers) s.kill();
    certs?.remove();
  });

  const jsz = async (i: number) =>
    (await (await fetch(`http://127.0.0.1:${monitorPorts[i]}/jsz`)).json()) as {
      meta_cluster?: { cluster_size?: number; leader?: string };
    };

  test('the config holds three TLS routes that verify their peer; the servers form one JetStream cluster', async () => {
    assert.match(
      template,
      /cluster \{[^}]*routes: \[(nats:\/\/[^,\]]+(, )?){3}\]\n {2}tls \{[^}]*verify: true/s,
    );
    // 60 s: with every package's tests running at once on 2 cores, TLS route handshakes and the
    // RAFT election take far longer than on a quiet machine. A server that died says why.
    await eventually(
      async () => {
        const dead = servers.findIndex((s) => s.exitCode !== null);
        if (dead >= 0)
          throw new Error(
            `nats-server ${dead} exited: ${readFileSync(join(scratch, `nats-ha-${dead}.log`), 'utf8')}`,
          );
        try {
          const all = await Promise.all([0, 1, 2].map(jsz));
          return all.every((j) => j.meta_cluster?.cluster_size === 3 && j.meta_cluster.leader) || undefined;
        } catch {
          return undefined;
        }
      },
      'three servers agreeing on a JetStream meta leader over TLS routes',
      600,
    );
  });

  test('an R3 stream gets a leader and two current replicas on the other servers', async () => {
    const nc = await connect({
      servers: `nats://127.0.0.1:${clientPorts[0]}`,
      user: 'operator',
      pass: decode(secret.data?.operator ?? ''),
      tls: { caFile: certs.ca },
      inboxPrefix: inboxPrefix('operator'),
    });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'HA_CHECK', subjects: ['emoverse.ha.check'], num_replicas: 3 });
      const cluster = await eventually(async () => {
        const info = await jsm.streams.info('HA_CHECK');
        const replicas = info.cluster?.replicas ?? [];
        return replicas.length === 2 && replicas.every((r) => r.current) ? info.cluster : undefined;
      }, 'the stream on all three servers');
      const names = [cluster?.leader, ...(cluster?.replicas ?? []).map((r) => r.name)].sort();
      assert.deepEqual(
        names,
        [0, 1, 2].map((i) => `${release.name}-nats-${i}`),
      );
      await jsm.streams.delete('HA_CHECK');
    } finally {
      await nc.close();
    }
  });
});
