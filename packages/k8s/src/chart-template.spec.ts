// The chart a user installs is the chart that is tested: deploy/helm/emoverse's real templates, rendered by
// deploy/tools/chart-template (Go text/template + sprig + Helm's functions), equal renderManifests object for
// object, validate as strictly as the typed objects, hand the trainer the same training Job, enforce
// values.schema.json, and fail with the template's file and line when a template is broken.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  buildTrainingJob,
  defaultRelease,
  type EmoverseValues,
  generatedSecretPattern,
  loadValuesFiles,
  mergeValues,
  type Release,
  readTrainingJobConfig,
  renderManifests,
  type TrainingRunSpec,
  trainingJobConfigFromValues,
  validateObject,
} from './index.js';
import {
  chartTemplate,
  parseRenderedStream,
  type RenderedObject,
  renderChartTemplates,
} from './private/chart-renderer.js';
import { chartDir } from './private/repo-paths.js';
import { sortedKeys } from './private/training-job.js';

const scratch = mkdtempSync(join(tmpdir(), 'emoverse-chart-template-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Variant {
  label: string;
  /** Chart values files after values.yaml. */
  files?: string[];
  /** Given to the Go side as one more -f file (written as YAML 1.1, as Helm reads it), merged in TypeScript. */
  override?: Record<string, unknown>;
  /** Given to the Go side as --set; `override` must say the same for the TypeScript side. */
  set?: string[];
  release?: Release;
}

const gpuFile = `${chartDir}/values-gpu.yaml`;
const haFile = `${chartDir}/values-ha.yaml`;
const [defaults, gpu, externalNats, objectStore, hpaOff, everyBranch, mtls, ha, certManager]: Variant[] = [
  { label: 'values.yaml' },
  { label: 'values.yaml + values-gpu.yaml', files: [gpuFile] },
  {
    label: 'external NATS (two tls:// URLs with a port: the NetworkPolicies allow that port)',
    override: {
      nats: {
        mode: 'external',
        url: 'tls://nats-0.messaging.svc:7422,tls://nats-1.messaging.svc:7422',
      },
    },
  },
  {
    label: 'objectStore storage, no NetworkPolicies, the gateway token from an existing Secret',
    override: {
      storage: { mode: 'objectStore', objectStoreBucket: 'emoverse-prod-models' },
      networkPolicy: { enabled: false },
      gateway: { auth: { existingSecret: 'gateway-token' } },
    },
  },
  {
    label: 'HPA off with 1 gateway replica (--set)',
    set: ['gateway.autoscaling.enabled=false,gateway.replicas=1'],
    override: { gateway: { autoscaling: { enabled: false }, replicas: 1 } },
  },
  {
    label:
      'GPU pools with every other branch turned (3-node NATS, no telemetry, extra env, numeric-looking names)',
    files: [gpuFile],
    release: { name: '2024', namespace: '0777' },
    override: {
      nats: {
        replicas: 3,
        jetstream: { storageClassName: 'fast-ssd', fileStorageSize: '20' },
        // No TLS, passwords from a Secret the user made (so the chart creates none).
        tls: { enabled: false },
        auth: { existingSecret: 'prod-nats-passwords' },
      },
      networkPolicy: {
        monitoringNamespace: 'prom',
        gatewayFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } }],
        apiServerPorts: [443],
        extraEgress: [
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP', port: 3128 }] },
        ],
      },
      storage: { pvc: { storageClassName: 'nfs', size: '100', accessModes: ['ReadWriteOnce'] } },
      telemetry: { otlpEndpoint: '', prometheus: { scrape: false, path: '/prom' } },
      frameExtractor: { enabled: false },
      auScorer: {
        env: { FEATURE: 'yes', LEVEL: '1', SWITCH: 'on' },
        nodeSelector: { 'emoverse.dev/pool': 'true' },
        tolerations: [
          { key: 'k', operator: 'Equal', value: 'true', effect: 'NoExecute', tolerationSeconds: 60 },
        ],
        resources: { requests: { cpu: '1' }, limits: {} },
      },
      trainer: { env: { EMOVERSE_MAX_CONCURRENT_JOBS: '9', LOG_LEVEL: 'debug' } },
      gateway: {
        serviceType: 'LoadBalancer',
        podDisruptionBudget: { enabled: false },
        auth: { enabled: false },
        gpus: 2,
        resources: { requests: {}, limits: { 'nvidia.com/gpu': '1', memory: '24Gi' } },
      },
      training: {
        env: { HF_HOME: '/tmp/hf', QUERY: 'a<b&c>d' },
        tolerations: [{ operator: 'Exists' }],
        gpusPerJob: 8,
        activeDeadlineSeconds: 1000000,
      },
    },
  },
  {
    label: 'mTLS to NATS with named certificate Secrets, an OTLP endpoint without a port',
    override: {
      nats: {
        tls: {
          secretName: 'nats-server-cert',
          mtls: { enabled: true, clientSecretName: 'nats-client-cert' },
        },
      },
      telemetry: { otlpEndpoint: 'https://otel.example.com/v1' },
    },
  },
  { label: 'values.yaml + values-ha.yaml (3-node NATS, PDB, anti-affinity, R3)', files: [haFile] },
  {
    label: 'cert-manager Certificates for every TLS Secret: HA NATS with mTLS, a public gateway name',
    files: [haFile],
    release: { name: 'prod', namespace: 'ml' },
    override: {
      certManager: {
        enabled: true,
        issuerRef: { name: 'internal-ca', kind: 'ClusterIssuer' },
        duration: '720h',
        renewBefore: '240h',
        gatewayDnsNames: ['emoverse.example.com'],
      },
      nats: { tls: { secretName: 'nats-cert', mtls: { enabled: true } }, antiAffinity: { mode: 'none' } },
      frameExtractor: { enabled: false },
    },
  },
];
const variants = [defaults, gpu, externalNats, objectStore, hpaOff, everyBranch, mtls, ha, certManager];

interface Rendered {
  values: EmoverseValues;
  release: Release;
  go: RenderedObject[];
}

const rendered = new Map<string, Rendered>();
/** Both sides of a variant, rendered once. */
async function renderVariant(v: Variant): Promise<Rendered> {
  const done = rendered.get(v.label);
  if (done) return done;
  const files = [...(v.files ?? [])];
  if (v.override && !v.set) {
    const file = join(scratch, `override-${rendered.size}.yaml`);
    writeFileSync(file, stringify(v.override, { version: '1.1' }));
    files.push(file);
  }
  const release = v.release ?? defaultRelease;
  const values = mergeValues(
    await loadValuesFiles(`${chartDir}/values.yaml`, ...(v.files ?? [])),
    v.override,
  );
  const go = renderChartTemplates({ valuesFiles: files, set: v.set, release });
  const result = { values, release, go };
  rendered.set(v.label, result);
  return result;
}

const key = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;
const normalised = (o: unknown) => sortedKeys(JSON.parse(JSON.stringify(o)));

/**
 * The Secrets the chart generates (NATS passwords, the gateway token) hold random values: sprig's
 * crypto-random randAlpha/randAlphaNum in the template, crypto.randomInt in renderManifests. Two renders can
 * never agree on them, so each side is held to the generated shape instead (every value the base64 of a
 * letter and 31 letters or digits, generatedSecretPattern) and the values are then replaced by a marker;
 * the keys, names, labels and type are compared as usual. Nothing else is masked.
 */
function maskGeneratedSecret(o: KubernetesObject, side: string): KubernetesObject {
  if (o.kind !== 'Secret') return o;
  const data = (o as V1Secret).data ?? {};
  for (const [k, v] of Object.entries(data)) {
    const plain = Buffer.from(v, 'base64').toString('utf8');
    assert.equal(Buffer.from(plain).toString('base64'), v, `${side} ${key(o)}: ${k} is not base64`);
    assert.match(plain, generatedSecretPattern, `${side} ${key(o)}: ${k} is not a generated value`);
  }
  return {
    ...o,
    data: Object.fromEntries(Object.keys(data).map((k) => [k, '<generated>'])),
  } as KubernetesObject;
}

/** Throws unless both sides hold the same kind/name set and equal objects under each. */
function assertSameObjects(go: RenderedObject[], ts: KubernetesObject[]): void {
  const goByKey = new Map(go.map((r) => [key(r.object), r]));
  const tsByKey = new Map(ts.map((o) => [key(o), o]));
  assert.equal(goByKey.size, go.length, 'the templates render no kind/name twice');
  assert.deepEqual([...goByKey.keys()].sort(), [...tsByKey.keys()].sort(), 'the same kind/name set');
  for (const [k, o] of tsByKey) {
    const r = goByKey.get(k) as RenderedObject;
    assert.deepEqual(
      normalised(maskGeneratedSecret(r.object, 'template')),
      normalised(maskGeneratedSecret(o, 'renderManifests')),
      `${k} from ${r.source} differs from renderManifests`,
    );
  }
}

describe('the real templates render what renderManifests produces', () => {
  for (const v of variants) {
    test(`${v.label}: object for object equal, and every rendered object validates strictly`, async () => {
      const { values, release, go } = await renderVariant(v);
      assert.ok(go.length >= 10, `rendered ${go.length} objects`);
      assertSameObjects(go, renderManifests(values, release));
      for (const { source, object } of go) assert.deepEqual(validateObject(object), [], source);
    });
  }

  test('the overrides really reach the templates (HPA off sets replicas, external NATS drops the StatefulSet)', async () => {
    const objects = async (v: Variant) => (await renderVariant(v)).go.map((r) => r.object);
    const withoutHpa = await objects(hpaOff);
    assert.equal(
      withoutHpa.find((o) => o.kind === 'HorizontalPodAutoscaler'),
      undefined,
    );
    const gateway = withoutHpa.find((o) => key(o) === 'Deployment/emoverse-gateway') as V1Deployment;
    assert.equal(gateway.spec?.replicas, 1);
    assert.equal(
      (await objects(externalNats)).find((o) => o.kind === 'StatefulSet'),
      undefined,
    );
    assert.equal(
      (await objects(objectStore)).find((o) => o.kind === 'PersistentVolumeClaim'),
      undefined,
    );
  });

  test('the stream is printed as helm template prints it: Source comments, install order, no NOTES.txt', () => {
    const stream = chartTemplate();
    const sources = [...stream.matchAll(/^# Source: (.+)$/gm)].map((m) => m[1]);
    assert.equal(sources.length, parseRenderedStream(stream).length);
    assert.ok(
      sources.every((s) => /^emoverse\/templates\/[a-z-]+\.yaml$/.test(s)),
      sources.join(' '),
    );
    assert.ok(!sources.some((s) => s.includes('NOTES') || s.includes('_helpers')));
    const kinds = parseRenderedStream(stream).map((r) => r.object.kind);
    const order = [
      'NetworkPolicy',
      'ServiceAccount',
      'Secret',
      'ConfigMap',
      'Role',
      'RoleBinding',
      'Service',
      'Deployment',
      'StatefulSet',
    ];
    const firsts = order.map((k) => kinds.indexOf(k));
    assert.deepEqual(
      firsts,
      [...firsts].sort((a, b) => a - b),
      `kinds in Helm's install order: ${kinds.join(' ')}`,
    );
  });
});

describe("the trainer's Job from the rendered ConfigMap", () => {
  const runs: TrainingRunSpec[] = [
    { runId: 'm2se-2026-11-26', recipe: 'recipes/m2se.yaml' },
    {
      runId: 'ablation_7',
      recipe: 'recipes/a.yaml',
      gpus: 2,
      executionProvider: 'webgpu',
      args: ['--resume'],
    },
  ];
  for (const v of [defaults, gpu, objectStore, everyBranch, mtls]) {
    test(`${v.label}: equals buildTrainingJob(trainingJobConfigFromValues()) for the same values`, async () => {
      const { values, release, go } = await renderVariant(v);
      const configMap = go.find((r) => key(r.object) === `ConfigMap/${release.name}-training-job`)
        ?.object as V1ConfigMap;
      const json = configMap?.data?.['training-job.json'];
      assert.ok(json, 'the ConfigMap carries training-job.json');
      // The trainer controller reads the mounted file with readTrainingJobConfig: do exactly that.
      const file = join(scratch, `training-job-${release.name}-${v.files?.length ?? 0}.json`);
      writeFileSync(file, json);
      const fromChart = await readTrainingJobConfig(file);
      assert.deepEqual(fromChart, trainingJobConfigFromValues(values, release));
      for (const run of runs) {
        const job = buildTrainingJob(run, fromChart);
        assert.deepEqual(job, buildTrainingJob(run, trainingJobConfigFromValues(values, release)));
        assert.deepEqual(validateObject(job), []);
      }
    });
  }
});

/** A copy of the chart with one template edited; returns the chart dir and the 1-based line edited. */
function brokenChart(file: string, from: string, to: string): { chart: string; line: number } {
  const chart = mkdtempSync(join(scratch, 'broken-'));
  cpSync(chartDir, chart, { recursive: true });
  const path = join(chart, 'templates', file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(from);
  assert.ok(at >= 0, `${file} contains ${from}`);
  writeFileSync(path, text.slice(0, at) + to + text.slice(at + from.length));
  return { chart, line: text.slice(0, at).split('\n').length };
}

describe('a broken template fails the render with its file and line', () => {
  test('a syntax error: an action left unclosed', () => {
    const { chart, line } = brokenChart(
      'deployments.yaml',
      'imagePullPolicy: {{ $svc.image.pullPolicy }}',
      'imagePullPolicy: {{ $svc.image.pullPolicy }',
    );
    assert.throws(
      () => chartTemplate({ chart }),
      new RegExp(`template: emoverse/templates/deployments\\.yaml:${line}: `),
    );
  });

  test('an error while executing: including a helper that does not exist', () => {
    const { chart, line } = brokenChart(
      'gateway-hpa.yaml',
      'include "emoverse.labels"',
      'include "emoverse.label"',
    );
    assert.throws(
      () => chartTemplate({ chart }),
      new RegExp(
        `emoverse/templates/gateway-hpa\\.yaml:${line}:\\d+: executing .*no template "emoverse\\.label"`,
      ),
    );
  });

  test('an undefined function inside a helper names _helpers.tpl', () => {
    const { chart, line } = brokenChart(
      '_helpers.tpl',
      'otlpEndpoint | quote }}',
      'otlpEndpoint | quoted }}',
    );
    assert.throws(
      () => chartTemplate({ chart }),
      new RegExp(`emoverse/templates/_helpers\\.tpl:${line}: function "quoted" not defined`),
    );
  });

  test('indent instead of nindent: the YAML the template printed is rejected, naming the template', () => {
    const { chart } = brokenChart('models-pvc.yaml', '"models") | nindent 4', '"models") | indent 4');
    assert.throws(
      () => chartTemplate({ chart }),
      /YAML parse error on emoverse\/templates\/models-pvc\.yaml/,
    );
  });

  test('a wrong nindent that is still YAML renders, and the equality check names the object', async () => {
    const { chart } = brokenChart('models-pvc.yaml', '"models") | nindent 4', '"models") | nindent 2');
    const go = renderChartTemplates({ chart });
    const ts = renderManifests(await loadValuesFiles(`${chartDir}/values.yaml`));
    assert.throws(
      () => assertSameObjects(go, ts),
      /PersistentVolumeClaim\/emoverse-models from .*models-pvc\.yaml/,
    );
  });
});

describe('values.schema.json on the Go path', () => {
  test('a wrong type or an unknown key fails with its path and the file or --set that supplied it', () => {
    const file = join(scratch, 'bad-values.yaml');
    writeFileSync(file, 'gateway:\n  replica: 3\nauScorer:\n  replicas: "2"\n');
    assert.throws(
      () => chartTemplate({ valuesFiles: [file] }),
      (e: Error) => {
        assert.match(e.message, /values\.schema\.json/);
        assert.match(
          e.message,
          new RegExp(`gateway\\.replica: Additional property replica is not allowed \\(from ${file}\\)`),
        );
        assert.match(e.message, /auScorer\.replicas: Invalid type\. Expected: integer, given: string/);
        return true;
      },
    );
    assert.throws(
      () => chartTemplate({ set: ['training.executionProvider=tensorrt'] }),
      /training\.executionProvider: .*must be one of .*\(from --set training\.executionProvider=tensorrt\)/,
    );
    assert.throws(
      () => chartTemplate({ set: ['nats.mode=external'] }),
      /nats\.url: Does not match pattern/,
      'external NATS needs a nats:// or tls:// URL (the schema’s if/then)',
    );
  });
});

describe('the renderer follows Helm’s documented behaviour', () => {
  const fixture = join(scratch, 'fixture');
  mkdirSync(join(fixture, 'templates'), { recursive: true });
  writeFileSync(
    join(fixture, 'Chart.yaml'),
    'apiVersion: v2\nname: fixture\nversion: 1.2.3\nappVersion: "9.9"\nkubeVersion: ">=1.25.0-0"\n',
  );
  writeFileSync(
    join(fixture, 'values.yaml'),
    'name: demo\ndrop: me\nnested: { a: 1, b: two }\nbig: 1000000\nlist: [z]\n',
  );
  writeFileSync(
    join(fixture, 'templates', '_helpers.tpl'),
    '{{- define "fixture.name" -}}{{ .Chart.Name }}-{{ .Values.name }}{{- end }}\nnot printed\n',
  );
  writeFileSync(join(fixture, 'templates', 'NOTES.txt'), 'Installed {{ .Release.Name }}.\n');
  writeFileSync(
    join(fixture, 'templates', 'off.yaml'),
    '{{- if .Values.missing }}\nkind: Never\n{{- end }}\n',
  );
  writeFileSync(
    join(fixture, 'templates', 'cm.yaml'),
    `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "fixture.name" . }}
data:
  release: {{ printf "%s/%s/%s/%v/%v" .Release.Name .Release.Namespace .Release.Service .Release.IsInstall .Release.Revision | quote }}
  chart: {{ printf "%s %s %s" .Chart.Name .Chart.Version .Chart.AppVersion | quote }}
  kube: {{ printf "%s %s %s" .Capabilities.KubeVersion.Version .Capabilities.KubeVersion.Major .Capabilities.KubeVersion.Minor | quote }}
  hasHpaV2: {{ .Capabilities.APIVersions.Has "autoscaling/v2" | quote }}
  template: {{ printf "%s %s" .Template.Name .Template.BasePath | quote }}
  values: {{ toJson .Values | quote }}
  tpl: {{ tpl "{{ .Values.name }}@{{ .Release.Namespace }}" . | quote }}
  required: {{ required "name is required" .Values.name | quote }}
  yaml: {{ (fromYaml (toYaml .Values.nested)).b | quote }}
  json: {{ (fromJson (toJson .Values.nested)).b | quote }}
  lookup: {{ lookup "v1" "Secret" "default" "x" | toJson | quote }}
  big: {{ .Values.big | quote }}
  bigInt: {{ .Values.big | int | quote }}
  missing: "{{ .Values.nothing }}"
`,
  );
  const render = (o: Parameters<typeof chartTemplate>[0] = {}) =>
    parseRenderedStream(chartTemplate({ chart: fixture, ...o }));

  test('built-in objects, helpers, include/tpl/required/toYaml/fromYaml/toJson/fromJson/lookup, float values', () => {
    const out = render({ release: { name: 'rel', namespace: 'ns' } });
    assert.deepEqual(
      out.map((r) => r.source),
      ['fixture/templates/cm.yaml'],
      '_helpers.tpl, NOTES.txt and an empty document print nothing',
    );
    assert.deepEqual((out[0].object as V1ConfigMap).data, {
      release: 'rel/ns/Helm/true/1',
      chart: 'fixture 1.2.3 9.9',
      kube: 'v1.27.0 1 27',
      hasHpaV2: 'true',
      template: 'fixture/templates/cm.yaml fixture/templates',
      values: '{"big":1000000,"drop":"me","list":["z"],"name":"demo","nested":{"a":1,"b":"two"}}',
      tpl: 'demo@ns',
      required: 'demo',
      yaml: 'two',
      json: 'two',
      lookup: '{}',
      // Values files are read as JSON numbers (float64): Helm prints a large one in exponent form.
      big: '1e+06',
      bigInt: '1000000',
      missing: '',
    });
    assert.equal(out[0].object.metadata?.name, 'fixture-demo');
  });

  test('--set types ints and booleans, null deletes, {a,b} is a list; --set-string keeps strings; later wins', () => {
    const file = join(scratch, 'fixture-override.yaml');
    writeFileSync(file, 'name: fromfile\nnested: { b: three }\n');
    const out = render({
      valuesFiles: [file],
      set: ['nested.a=5,nested.c=true,nested.d=05,list={x,y}', 'drop=null', 'name=fromset'],
      setString: ['nested.e=7'],
    });
    const values = JSON.parse((out[0].object as V1ConfigMap).data?.values ?? '');
    assert.deepEqual(values, {
      big: 1000000,
      list: ['x', 'y'],
      name: 'fromset',
      nested: { a: 5, b: 'three', c: true, d: '05', e: '7' },
    });
  });

  test('required fails naming the template and line; env is not available; kubeVersion is enforced', () => {
    assert.throws(
      () => render({ set: ['name='] }),
      /fixture\/templates\/cm\.yaml:\d+:\d+: .*name is required/,
    );
    const withEnv = join(scratch, 'fixture-env');
    cpSync(fixture, withEnv, { recursive: true });
    writeFileSync(join(withEnv, 'templates', 'env.yaml'), 'home: {{ env "HOME" }}\n');
    assert.throws(
      () => chartTemplate({ chart: withEnv }),
      /fixture\/templates\/env\.yaml:1: function "env" not defined/,
    );
    assert.throws(
      () => render({ kubeVersion: 'v1.24.3' }),
      /requires kubeVersion: >=1\.25\.0-0 .* v1\.24\.3/,
    );
  });
});

describe('npm run chart:template', () => {
  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', 'src/chart-template.ts', ...args],
      {
        encoding: 'utf8',
        cwd: new URL('..', import.meta.url).pathname,
        env: { ...process.env, INIT_CWD: scratch },
      },
    );

  test('prints the rendered, validated stream for values files, --set, release and namespace', () => {
    const run = cli([
      '-f',
      gpuFile,
      '--set',
      'gateway.autoscaling.enabled=false',
      '--release',
      'prod',
      '--namespace',
      'ml',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const objects = parseRenderedStream(run.stdout).map((r) => r.object);
    assert.ok(objects.length > 15);
    assert.ok(objects.every((o) => o.metadata?.namespace === 'ml' && o.metadata?.name?.startsWith('prod-')));
    assert.equal(
      objects.find((o) => o.kind === 'HorizontalPodAutoscaler'),
      undefined,
    );
    assert.match(run.stdout, /^---\n# Source: emoverse\/templates\//);
  });

  test('a missing values file, invalid YAML or a schema violation: exit 1, file and path, no stream', () => {
    writeFileSync(join(scratch, 'invalid.yaml'), 'gateway:\n  replicas: [1,\n');
    writeFileSync(join(scratch, 'violates.yaml'), 'gateway:\n  grpcPort: fifty\n');
    const cases: Array<[string[], RegExp]> = [
      [['-f', 'missing.yaml'], new RegExp(`values file ${scratch}/missing\\.yaml: no such file`)],
      [['-f', 'invalid.yaml'], new RegExp(`values file ${scratch}/invalid\\.yaml: invalid YAML: .*line \\d`)],
      [
        ['-f', 'violates.yaml'],
        new RegExp(
          `gateway\\.grpcPort: Invalid type\\. Expected: integer, given: string \\(from ${scratch}/violates\\.yaml\\)`,
        ),
      ],
    ];
    for (const [args, why] of cases) {
      const run = cli(args);
      assert.equal(run.status, 1, args.join(' '));
      assert.equal(run.stdout, '', `${args.join(' ')}: no partial stream`);
      assert.match(run.stderr, why);
    }
  });
});
