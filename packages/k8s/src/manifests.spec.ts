// The typed chart objects: valid against the Kubernetes schemas, probes, scaling, NATS config accepted by nats-server, and the manifests CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { identityNames, passwordVariable } from '@emoverse/bus';
import { makeTestCertificates } from '@emoverse/testing';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import {
  assertValid,
  defaultValues,
  type EmoverseValues,
  loadValuesFiles,
  mergeValues,
  natsConfig,
  randomSecretValue,
  renderManifests,
  toYamlStream,
  validateObject,
} from './index.js';
import { chartDir } from './private/repo-paths.js';
import { defaultRelease } from './private/values.js';

const valuesFiles = {
  default: [`${chartDir}/values.yaml`],
  gpu: [`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`],
  ha: [`${chartDir}/values.yaml`, `${chartDir}/values-ha.yaml`],
};

const find = (objects: KubernetesObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name);

describe('chart objects from typed values', () => {
  test("values.yaml is exactly packages/k8s's defaultValues()", () => {
    assert.deepEqual(parse(readFileSync(`${chartDir}/values.yaml`, 'utf8')), defaultValues());
  });

  for (const [label, files] of Object.entries(valuesFiles)) {
    test(`${label} values: every object validates against its kind's OpenAPI schema, strictly`, async () => {
      const objects = renderManifests(await loadValuesFiles(...files));
      assertValid(objects);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of [
        'Deployment',
        'Service',
        'StatefulSet',
        'ConfigMap',
        'PersistentVolumeClaim',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'ServiceAccount',
        'Role',
        'RoleBinding',
      ]) {
        assert.ok(kinds.has(kind), `${label}: produces a ${kind}`);
      }
      for (const c of ['frame-extractor', 'au-scorer', 'caption-generator', 'trainer', 'gateway']) {
        assert.ok(find(objects, 'Deployment', `emoverse-${c}`), `Deployment for ${c}`);
        assert.ok(find(objects, 'Service', `emoverse-${c}`), `Service for ${c}`);
      }
      // The YAML stream `helm template` would print parses back to the same objects.
      const docs = parseAllDocuments(toYamlStream(objects)).map((d) => d.toJS());
      assert.deepEqual(docs, JSON.parse(JSON.stringify(objects)));
    });
  }

  test('the validator fails on wrong types, missing required fields, unknown fields and bad names', () => {
    const objects = renderManifests(defaultValues());
    const deployment = structuredClone(find(objects, 'Deployment', 'emoverse-gateway')) as V1Deployment;
    const container = deployment.spec?.template.spec?.containers[0] as unknown as Record<string, unknown>;
    container.readinessProbe = { grpc: { port: 'grpc' } }; // grpc probes take a number, not a port name
    container.imagePullPolicie = 'Always';
    delete container.image;
    container.name = undefined;
    deployment.metadata = { name: 'Emoverse_Gateway' };
    const errors = validateObject(deployment);
    assert.ok(
      errors.some((e) => /readinessProbe\/grpc\/port must be integer/.test(e)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => /must have required property '?name'?/.test(e)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => /imagePullPolicie: unknown field/.test(e)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => /not a valid DNS-1123 name/.test(e)),
      errors.join('\n'),
    );
    assert.deepEqual(validateObject({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'x' } }), [
      'Endpoints x: no schema for v1/Endpoints',
    ]);
    // Secret data is base64, as the API server requires.
    assert.ok(
      validateObject({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'x' },
        data: { a: 'not base64!' },
      } as KubernetesObject).some((e) => /data\/a must match format "byte"/.test(e)),
    );
  });

  test('services probe gRPC health natively on the plaintext health port, export OTel and are annotated for Prometheus', async () => {
    const values = await loadValuesFiles(...valuesFiles.default);
    for (const o of renderManifests(values).filter((x) => x.kind === 'Deployment')) {
      const d = o as V1Deployment;
      const c = d.spec?.template.spec?.containers[0];
      const grpc = c?.ports?.find((p) => p.name === 'grpc')?.containerPort;
      const health = c?.ports?.find((p) => p.name === 'health')?.containerPort;
      assert.ok(grpc && health && grpc !== health);
      // The gRPC port serves TLS, which the kubelet's gRPC probe cannot speak.
      for (const probe of [c?.startupProbe, c?.readinessProbe, c?.livenessProbe])
        assert.deepEqual(probe?.grpc, { port: health });
      const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, values.telemetry.otlpEndpoint);
      assert.equal(env.EMOVERSE_TRACE_EXPORTER, values.telemetry.otlpEndpoint ? 'otlp' : 'none');
      // service-kit's variable names: the server listens where the Service and the probes look.
      assert.equal(env.EMOVERSE_GRPC_PORT, String(grpc));
      assert.equal(env.EMOVERSE_HEALTH_PORT, String(health));
      assert.equal(env.NATS_URL, 'nats://emoverse-nats.emoverse.svc:4222');
      const annotations = d.spec?.template.metadata?.annotations ?? {};
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.equal(annotations['prometheus.io/port'], String(values.gateway.metricsPort));
      assert.equal(d.spec?.template.spec?.securityContext?.runAsNonRoot, true);
    }
  });

  test('gateway: HPA owns replicas, PDB keeps a floor; without the HPA the Deployment sets replicas', () => {
    const objects = renderManifests(defaultValues());
    const gw = find(objects, 'Deployment', 'emoverse-gateway') as V1Deployment;
    assert.equal(gw.spec?.replicas, undefined);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'emoverse-gateway') as {
      spec: { scaleTargetRef: { name: string } };
    };
    assert.equal(hpa.spec.scaleTargetRef.name, 'emoverse-gateway');
    assert.ok(find(objects, 'PodDisruptionBudget', 'emoverse-gateway'));
    const fixed = renderManifests(
      mergeValues(defaultValues(), { gateway: { replicas: 5, autoscaling: { enabled: false } } }),
    );
    assert.equal((find(fixed, 'Deployment', 'emoverse-gateway') as V1Deployment).spec?.replicas, 5);
    assert.equal(find(fixed, 'HorizontalPodAutoscaler', 'emoverse-gateway'), undefined);
  });

  test('each vision service scales on its own value', () => {
    // Generated Secret values are random per render: fix them to compare two renders.
    const fixed = { secrets: () => 'Fixed0password' };
    const base = renderManifests(defaultValues(), defaultRelease, fixed);
    const scaled = renderManifests(
      mergeValues(defaultValues(), { auScorer: { replicas: 7 } }),
      defaultRelease,
      fixed,
    );
    const changed = scaled.filter((o, i) => JSON.stringify(o) !== JSON.stringify(base[i]));
    assert.deepEqual(
      changed.map((o) => `${o.kind}/${o.metadata?.name}`),
      ['Deployment/emoverse-au-scorer'],
    );
    assert.equal((changed[0] as V1Deployment).spec?.replicas, 7);
  });

  test('external NATS and the object store: no StatefulSet, no PVC, env points at them', () => {
    const values = mergeValues<EmoverseValues>(defaultValues(), {
      nats: { mode: 'external', url: 'nats://nats.messaging.svc:4222' },
      storage: { mode: 'objectStore' },
    });
    const objects = renderManifests(values);
    assertValid(objects);
    assert.ok(!objects.some((o) => o.kind === 'StatefulSet' || o.kind === 'PersistentVolumeClaim'));
    const env =
      (find(objects, 'Deployment', 'emoverse-trainer') as V1Deployment).spec?.template.spec?.containers[0]
        .env ?? [];
    assert.equal(env.find((e) => e.name === 'NATS_URL')?.value, 'nats://nats.messaging.svc:4222');
    assert.equal(env.find((e) => e.name === 'EMOVERSE_OBJECT_STORE_BUCKET')?.value, 'emoverse-models');
    assert.equal(
      env.find((e) => e.name === 'EMOVERSE_MODELS_DIR'),
      undefined,
    );
  });

  test('the embedded NATS config is accepted by nats-server -t (single node, 3-node cluster, TLS on clients and routes, mTLS)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emoverse-nats-'));
    const certs = makeTestCertificates();
    // nats-server reads each password from NATS_PASSWORD_<ID>, as the StatefulSet's env sets them.
    const env = {
      ...process.env,
      ...Object.fromEntries(identityNames.map((id) => [passwordVariable(id), randomSecretValue()])),
    };
    try {
      for (const [replicas, tls] of [
        [1, 'off'],
        [3, 'off'],
        [1, 'tls'],
        [3, 'tls'],
        [3, 'mtls'],
      ] as const) {
        const values = mergeValues(defaultValues(), {
          nats: { replicas, tls: { enabled: tls !== 'off', mtls: { enabled: tls === 'mtls' } } },
        });
        const conf = natsConfig(values, defaultRelease)
          .replace('$POD_NAME', 'emoverse-nats-0')
          .replace('/data/jetstream', join(dir, 'js'))
          .replaceAll('/etc/nats-tls/tls.crt', certs.serverCert)
          .replaceAll('/etc/nats-tls/tls.key', certs.serverKey)
          .replaceAll('/etc/nats-tls/ca.crt', certs.ca);
        const file = join(dir, `nats-${replicas}-${tls}.conf`);
        writeFileSync(file, conf);
        const run = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', env });
        assert.equal(run.status, 0, run.stderr);
        assert.match(`${run.stdout}${run.stderr}`, /is valid/);
        assert.equal(conf.includes('routes:'), replicas > 1);
        assert.equal(conf.includes('tls {'), tls !== 'off');
        // Cluster routes are encrypted whenever client connections are, and verify the peer's certificate.
        assert.equal(
          /^ {2}tls \{\n(.*\n){3} {4}verify: true\n {2}\}$/m.test(conf),
          replicas > 1 && tls !== 'off',
        );
        assert.equal(/^ {2}verify: true$/m.test(conf), tls === 'mtls');
      }
      // Without the password variables nats-server refuses the config: a user cannot end up without one.
      const bare = spawnSync('nats-server', ['-c', join(dir, 'nats-1-off.conf'), '-t'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      assert.notEqual(bare.status, 0);
      assert.match(bare.stderr, /NATS_PASSWORD_/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      certs.remove();
    }
  });
});

describe('npm run manifests', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/cli.ts', ...args], {
      encoding: 'utf8',
      cwd: new URL('..', import.meta.url).pathname,
    });

  test('prints the validated YAML stream for a values file, release and namespace', () => {
    const run = cli(['-f', `${chartDir}/values-gpu.yaml`, '--release', 'prod', '--namespace', 'ml']);
    assert.equal(run.status, 0, run.stderr);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as KubernetesObject);
    assert.ok(docs.length > 15);
    assert.ok(docs.every((d) => d.metadata?.namespace === 'ml' && d.metadata?.name?.startsWith('prod-')));
  });

  test('-f values-ha.yaml: a three-node NATS StatefulSet, its PDB (minAvailable 2), one per node, R3 everywhere', () => {
    const run = cli(['-f', `${chartDir}/values-ha.yaml`]);
    assert.equal(run.status, 0, run.stderr);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS() as KubernetesObject);
    const nats = find(docs, 'StatefulSet', 'emoverse-nats') as V1StatefulSet;
    assert.equal(nats.spec?.replicas, 3);
    const natsPods = { matchLabels: nats.spec?.selector.matchLabels };
    const pdb = find(docs, 'PodDisruptionBudget', 'emoverse-nats') as V1PodDisruptionBudget;
    assert.deepEqual(pdb.spec, { minAvailable: 2, selector: natsPods });
    // Required, not preferred: two servers on one node would let one node failure take the quorum.
    assert.deepEqual(nats.spec?.template.spec?.affinity, {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: natsPods, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    });
    const conf = (find(docs, 'ConfigMap', 'emoverse-nats') as V1ConfigMap).data?.['nats.conf'] ?? '';
    assert.equal(
      conf.match(/nats:\/\/emoverse-nats-\d\.emoverse-nats-headless\.emoverse\.svc:6222/g)?.length,
      3,
    );
    // Every pod that declares streams and buckets asks for three replicas: the five services and training Jobs.
    const deployments = docs.filter((d) => d.kind === 'Deployment') as V1Deployment[];
    assert.equal(deployments.length, 5);
    for (const d of deployments) {
      const env = d.spec?.template.spec?.containers[0].env ?? [];
      assert.equal(env.find((e) => e.name === 'EMOVERSE_STREAM_REPLICAS')?.value, '3', d.metadata?.name);
    }
    const job = JSON.parse(
      (find(docs, 'ConfigMap', 'emoverse-training-job') as V1ConfigMap).data?.['training-job.json'] ?? '{}',
    );
    assert.deepEqual(
      job.env.filter((e: { name: string }) => e.name === 'EMOVERSE_STREAM_REPLICAS'),
      [{ name: 'EMOVERSE_STREAM_REPLICAS', value: '3' }],
    );
    // Without the file: one server, R1, no NATS PDB.
    const single = renderManifests(defaultValues());
    assert.equal(find(single, 'PodDisruptionBudget', 'emoverse-nats'), undefined);
    assert.equal((find(single, 'StatefulSet', 'emoverse-nats') as V1StatefulSet).spec?.replicas, 1);
    assert.match(JSON.stringify(single), /"name":"EMOVERSE_STREAM_REPLICAS","value":"1"/);
  });

  test('exits 1 naming the problem when values produce an invalid object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emoverse-cli-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), 'gateway:\n  grpcPort: "fifty"\n');
      const run = cli(['-f', join(dir, 'bad.yaml')]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /emoverse-gateway: schema: .*must be integer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
