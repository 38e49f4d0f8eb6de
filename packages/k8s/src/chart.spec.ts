// Static cross-checks of deploy/helm/emoverse: the values files against values.schema.json (ajv, as helm
// validates the merged values), and the thin templates' text against the TypeScript objects (names, field
// keys, values paths, balanced actions). chart-template.spec.ts renders the same templates for real and
// requires the objects equal; these checks stay as quick, precise pointers to what drifted.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import Ajv from 'ajv';
import { parse } from 'yaml';
import {
  components,
  defaultValues,
  type EmoverseValues,
  loadValuesFiles,
  mergeValues,
  renderManifests,
  trainingJobConfigFromValues,
} from './index.js';
import { chartDir } from './private/repo-paths.js';
import { defaultRelease } from './private/values.js';

const schema = JSON.parse(readFileSync(`${chartDir}/values.schema.json`, 'utf8'));
const validateValues = new Ajv({ allErrors: true, strict: true }).compile(schema);
const valuesYaml = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8')) as EmoverseValues;
const templateFiles = readdirSync(`${chartDir}/templates`).filter((f) => f.endsWith('.yaml'));
const templates = Object.fromEntries(
  templateFiles.map((f) => [f, readFileSync(`${chartDir}/templates/${f}`, 'utf8')]),
);
const helpers = readFileSync(`${chartDir}/templates/_helpers.tpl`, 'utf8');

/** The value sets the checks run over: defaults, GPU pools, HA NATS, cert-manager, and external NATS/object store. */
async function variants(): Promise<Record<string, EmoverseValues>> {
  return {
    default: await loadValuesFiles(`${chartDir}/values.yaml`),
    gpu: await loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`),
    ha: await loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-ha.yaml`),
    certManager: mergeValues(defaultValues(), {
      certManager: { enabled: true, issuerRef: { name: 'ca' }, gatewayDnsNames: ['emoverse.example.com'] },
      nats: { replicas: 3, tls: { mtls: { enabled: true } } },
    }),
    external: mergeValues(defaultValues(), {
      nats: { mode: 'external', url: 'nats://nats:4222' },
      storage: { mode: 'objectStore' },
      gateway: { autoscaling: { enabled: false }, podDisruptionBudget: { enabled: false } },
    }),
  };
}

interface TemplateDoc {
  file: string;
  kind: string;
  name: string;
  text: string;
}

/** kind and metadata.name of every document in the templates, with `{{ $component }}` expanded. */
function templateDocs(): TemplateDoc[] {
  const docs: TemplateDoc[] = [];
  for (const [file, text] of Object.entries(templates)) {
    const services = [
      ...(/\$services := dict ([^}]+)\}\}/.exec(text)?.[1].matchAll(/"([a-z-]+)" "[A-Za-z]+"/g) ?? []),
    ].map((m) => m[1]);
    const parts = text.split(/^---$/m);
    for (const part of parts) {
      const kind = /^kind: (\w+)$/m.exec(part)?.[1];
      const rawName = /^ {2}name: (.+)$/m.exec(part)?.[1];
      if (!kind || !rawName) continue;
      const name = rawName.replace(/\{\{ \$?\.Release\.Name \}\}/g, defaultRelease.name);
      const names = name.includes('{{ $component }}')
        ? services.map((s) => name.replace('{{ $component }}', s))
        : [name];
      // The part before the first `---` holds the loop's variables (e.g. the trainer's extra env).
      for (const n of names) docs.push({ file, kind, name: n, text: `${parts[0]}\n${part}` });
    }
  }
  return docs;
}

function hasPath(obj: unknown, path: string[]): boolean {
  let at = obj;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !(key in at)) return false;
    at = (at as Record<string, unknown>)[key];
  }
  return true;
}

/** Map keys of an object, skipping maps whose keys are data (labels, selectors, resource names, ...). */
const dataMaps = new Set([
  'labels',
  'annotations',
  'matchLabels',
  'selector',
  'nodeSelector',
  'requests',
  'limits',
  'data',
]);
function fieldKeys(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) fieldKeys(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      if (!dataMaps.has(k) && k !== 'tolerations') fieldKeys(v, out);
    }
  }
  return out;
}

describe('values.schema.json', () => {
  test('accepts values.yaml and values.yaml + values-gpu.yaml merged as helm merges them', async () => {
    assert.ok(validateValues(valuesYaml), JSON.stringify(validateValues.errors));
    const gpu = await loadValuesFiles(`${chartDir}/values.yaml`, `${chartDir}/values-gpu.yaml`);
    assert.ok(validateValues(gpu), JSON.stringify(validateValues.errors));
    for (const v of Object.values(await variants()))
      assert.ok(validateValues(v), JSON.stringify(validateValues.errors));
  });

  test('rejects misspelt keys, wrong types, unknown EPs and bad quantities', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ gateway: { replica: 3 } }, /additionalProperties/],
      [{ training: { gpusPerJob: -1 } }, /minimum/],
      [{ gateway: { executionProvider: 'tensorrt' } }, /enum|allowed values/],
      [{ training: { shmSize: '16 gigs' } }, /pattern/],
      [{ nats: { mode: 'external', url: 'http://nats' } }, /pattern/],
      [{ auScorer: { replicas: '2' } }, /type/],
      // R3 on fewer than three NATS servers: every stream creation would fail at start-up.
      [{ nats: { streamReplicas: 3 } }, /const/],
      [{ nats: { streamReplicas: 2, replicas: 3 } }, /enum|allowed values/],
      [{ certManager: { enabled: true } }, /minLength/],
      [{ gateway: { healthPort: 0 } }, /minimum/],
    ];
    for (const [override, why] of bad) {
      assert.equal(validateValues(mergeValues(valuesYaml, override)), false, JSON.stringify(override));
      assert.match(JSON.stringify(validateValues.errors), why, JSON.stringify(override));
    }
  });
});

describe('templates mirror the TypeScript objects', () => {
  test('every kind/name the TypeScript produces has a template, and every template is produced', async () => {
    const docs = templateDocs();
    const templated = new Set(docs.map((d) => `${d.kind}/${d.name}`));
    const produced = new Set<string>();
    for (const [label, values] of Object.entries(await variants())) {
      for (const o of renderManifests(values)) {
        const id = `${o.kind}/${o.metadata?.name}`;
        produced.add(id);
        assert.ok(templated.has(id), `${label}: ${id} has no template`);
      }
    }
    assert.deepEqual(
      [...templated].filter((t) => !produced.has(t)),
      [],
    );
    assert.equal(templated.size, produced.size);
  });

  test('every field key of every TS object appears in its template (or the helpers it includes)', async () => {
    const docs = templateDocs();
    for (const values of Object.values(await variants())) {
      for (const o of renderManifests(values) as KubernetesObject[]) {
        const doc = docs.find((d) => d.kind === o.kind && d.name === o.metadata?.name);
        assert.ok(doc);
        const text = doc.text + helpers;
        for (const k of fieldKeys(o)) {
          if (k === 'training-job.json' || k === 'nats.conf') continue;
          assert.match(
            text,
            new RegExp(`(^|[\\s{,])${k.replace(/[.]/g, '\\.')}:`, 'm'),
            `${o.kind}/${o.metadata?.name}: field ${k} not in ${doc.file}`,
          );
        }
        for (const container of (
          o as { spec?: { template?: { spec?: { containers?: Array<{ env?: Array<{ name: string }> }> } } } }
        ).spec?.template?.spec?.containers ?? []) {
          for (const e of container.env ?? []) {
            // nats-server's password variables are named from the identities by a helper.
            if (e.name.startsWith('NATS_PASSWORD_')) {
              assert.match(text, /include "emoverse\.natsPasswordVariable"/);
              continue;
            }
            const literal = new RegExp(`name: ${e.name}\\b|"${e.name}"`);
            assert.match(text, literal, `${o.kind}/${o.metadata?.name}: env ${e.name}`);
          }
        }
      }
    }
  });

  test('the training Job config template sets every field trainingJobConfigFromValues sets', () => {
    const text = templates['training-job-configmap.yaml'];
    for (const k of Object.keys(trainingJobConfigFromValues(defaultValues(), defaultRelease))) {
      assert.match(text, new RegExp(`"${k}" `), `training-job-configmap.yaml lacks "${k}"`);
    }
  });

  test('every values path a template reads exists in values.yaml', () => {
    const all = [
      ...Object.values(templates),
      helpers,
      readFileSync(`${chartDir}/templates/NOTES.txt`, 'utf8'),
    ].join('\n');
    const serviceKeys = components.map((c) => c.key);
    const vars: Record<string, string[][]> = { svc: serviceKeys.map((k) => [k]) };
    for (const m of all.matchAll(/\$(\w+) := \$?\.Values\.([\w.]+)/g)) vars[m[1]] = [m[2].split('.')];
    const reads: Array<[string, string[][]]> = [];
    for (const m of all.matchAll(/\$?\.(?:root\.)?Values((?:\.\w+)+)/g))
      reads.push([m[0], [m[1].slice(1).split('.')]]);
    for (const m of all.matchAll(/\$(\w+)((?:\.\w+)+)/g)) {
      const bases = vars[m[1]];
      if (bases) reads.push([m[0], bases.map((b) => [...b, ...m[2].slice(1).split('.')])]);
    }
    assert.ok(reads.length > 50, `found ${reads.length} reads`);
    for (const [expr, paths] of reads) {
      for (const p of paths)
        assert.ok(hasPath(valuesYaml, p), `${expr}: ${p.join('.')} is not in values.yaml`);
    }
  });

  test('every template action is closed and every block (if/range/with/define) has its end', () => {
    const files = {
      ...templates,
      '_helpers.tpl': helpers,
      'NOTES.txt': readFileSync(`${chartDir}/templates/NOTES.txt`, 'utf8'),
    };
    for (const [file, text] of Object.entries(files)) {
      assert.equal(
        (text.match(/\{\{/g) ?? []).length,
        (text.match(/\}\}/g) ?? []).length,
        `${file}: {{ and }} pair up`,
      );
      const stack: string[] = [];
      for (const m of text.matchAll(/\{\{-?\s*(\/\*[\s\S]*?\*\/|[\s\S]*?)\s*-?\}\}/g)) {
        const action = m[1];
        if (action.startsWith('/*')) continue;
        const word = /^(if|range|with|define|else|end)\b/.exec(action)?.[1];
        if (word === 'if' || word === 'range' || word === 'with' || word === 'define') stack.push(word);
        else if (word === 'else')
          assert.ok(stack.length && stack[stack.length - 1] !== 'define', `${file}: else outside a block`);
        else if (word === 'end') assert.ok(stack.pop(), `${file}: end without a block`);
        // Parentheses inside one action balance (a common slip in pipelines).
        assert.equal(
          (action.match(/\(/g) ?? []).length,
          (action.match(/\)/g) ?? []).length,
          `${file}: ${action}`,
        );
      }
      assert.deepEqual(stack, [], `${file}: unclosed ${stack.join(', ')}`);
    }
    // The helpers every template includes are defined.
    const defined = new Set([...helpers.matchAll(/define "([\w.]+)"/g)].map((m) => m[1]));
    for (const [file, text] of Object.entries(files)) {
      for (const m of text.matchAll(/include "([\w.]+)"/g))
        assert.ok(defined.has(m[1]), `${file}: include ${m[1]}`);
    }
  });

  test('Chart.yaml names the chart and a Kubernetes version with native gRPC probes', () => {
    const chart = parse(readFileSync(`${chartDir}/Chart.yaml`, 'utf8'));
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'emoverse');
    assert.match(chart.kubeVersion, />=1\.27/);
    assert.match(readFileSync(`${chartDir}/templates/NOTES.txt`, 'utf8'), /gateway/);
  });
});
