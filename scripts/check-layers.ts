// The layer rule (engine → domain → platform → services → apps, arrows down only), checked on real imports.
//
// Run by `npm run lint`; the rule itself is in shared/ARCHITECTURE.md and the README's architecture section.
// Every .ts/.js file of every workspace is read with TypeScript's own pre-processor (static, dynamic and
// type-only imports, re-exports and require(); comments and strings are not mistaken for imports), and each
// import of another workspace (by package name or by a relative path that leaves the workspace) is checked
// against the layer table below. Test and tooling files (DEV_FILE) may also use the test helpers
// (@emoverse/testing) and a package's test doubles (`<name>/testing`); production code may not. The
// workspaces' package.json files are checked too: every bare import must be declared there, production code
// only from `dependencies`, and an `@emoverse/*` dependency must obey the same rule as an import.
//
//   node --import tsx scripts/check-layers.ts [repo root]    one line per violation; exit code 1 if any
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type Layer = 'engine' | 'domain' | 'platform' | 'services' | 'apps';

/** Which layer each workspace folder is in. A workspace missing here is itself a violation: place it first. */
export const LAYER_OF: Readonly<Record<string, Layer>> = {
  'packages/onnx': 'engine',
  'packages/autograd': 'engine',
  'packages/models': 'engine',
  'packages/runtime': 'engine',
  'packages/safetensors': 'engine',
  'packages/video': 'domain',
  'packages/facs': 'domain',
  'packages/emt': 'domain',
  'packages/metrics': 'domain',
  'packages/m2se': 'domain',
  'packages/trainer-core': 'domain',
  'packages/serving': 'domain',
  'packages/plots': 'domain',
  'packages/service-kit': 'platform',
  'packages/bus': 'platform',
  'packages/telemetry': 'platform',
  'packages/proto': 'platform',
  'packages/k8s': 'platform',
  'packages/demo': 'apps',
  'packages/testing': 'apps',
  tests: 'apps',
};

/** What a layer may import. A service may import everything below it, but never another service. */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  engine: ['engine'],
  domain: ['engine', 'domain'],
  platform: ['engine', 'domain', 'platform'],
  services: ['engine', 'domain', 'platform'],
  apps: ['engine', 'domain', 'platform', 'services', 'apps'],
};

/** The one app that code below the apps layer may use, and only from test and tooling files (DEV_FILE). */
const TEST_HELPERS = 'packages/testing';

/** Test and tooling files: specs (and the cluster suite's *.cluster.ts), test support, benchmarks, a package's scripts/ folder. */
const DEV_FILE =
  /(\.(spec|cluster)\.[cm]?[jt]s$)|((^|\/)test-support\.[cm]?[jt]s$)|((^|\/)bench(-[\w-]+)?\.[cm]?[jt]s$)|(^scripts\/)/;

const SOURCE_FILE = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);

export interface Violation {
  /** Repository-relative path of the file (or package.json) that breaks the rule. */
  file: string;
  line: number;
  rule:
    | 'layer'
    | 'imports-a-service'
    | 'unplaced-workspace'
    | 'relative-escape'
    | 'undeclared'
    | 'dev-only'
    | 'test-double';
  message: string;
}

interface Workspace {
  dir: string;
  name: string;
  layer: Layer | undefined;
  dependencies: Set<string>;
  devDependencies: Set<string>;
  declared: Record<string, 'dependencies' | 'devDependencies' | 'peerDependencies' | 'optionalDependencies'>;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function keys(o: unknown): string[] {
  return o && typeof o === 'object' ? Object.keys(o) : [];
}

/** The workspaces named by the root package.json (`dir/*` and plain folders, as npm expands them). */
function workspaces(root: string): Workspace[] {
  const patterns = (readJson(join(root, 'package.json')).workspaces ?? []) as string[];
  const dirs: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('/*')) {
      const parent = p.slice(0, -2);
      for (const d of readdirSync(join(root, parent)).sort()) {
        try {
          statSync(join(root, parent, d, 'package.json'));
          dirs.push(`${parent}/${d}`);
        } catch {}
      }
    } else dirs.push(p);
  }
  return dirs.map((dir) => {
    const pj = readJson(join(root, dir, 'package.json'));
    const declared: Workspace['declared'] = {};
    for (const field of [
      'peerDependencies',
      'optionalDependencies',
      'devDependencies',
      'dependencies',
    ] as const) {
      for (const k of keys(pj[field])) declared[k] = field;
    }
    return {
      dir,
      name: String(pj.name),
      layer: LAYER_OF[dir] ?? (dir.startsWith('services/') ? 'services' : undefined),
      dependencies: new Set([
        ...keys(pj.dependencies),
        ...keys(pj.peerDependencies),
        ...keys(pj.optionalDependencies),
      ]),
      devDependencies: new Set(keys(pj.devDependencies)),
      declared,
    };
  });
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (SKIPPED_DIRS.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (SOURCE_FILE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const BUILTINS = new Set(builtinModules);

/** Why `from` may not depend on `to` (undefined when it may). */
function layerProblem(
  from: Workspace,
  to: Workspace,
  dev: boolean,
): { rule: Violation['rule']; message: string } | undefined {
  if (from === to || from.layer === undefined || to.layer === undefined) return undefined;
  if (MAY_IMPORT[from.layer].includes(to.layer)) return undefined;
  if (dev && to.dir === TEST_HELPERS) return undefined;
  if (to.layer === 'services') {
    return {
      rule: 'imports-a-service',
      message: `${from.dir} (${from.layer}) imports the service ${to.name}: no package imports a service`,
    };
  }
  return {
    rule: 'layer',
    message: `${from.dir} (${from.layer}) imports ${to.name} (${to.layer}): ${from.layer} may import only ${MAY_IMPORT[from.layer].join(', ')}`,
  };
}

/** Every violation of the layer rule and of the package.json declarations under `root`. */
export function checkLayers(root: string): Violation[] {
  const all = workspaces(root);
  const byName = new Map(all.map((w) => [w.name, w]));
  const violations: Violation[] = [];
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const owner = (absPath: string) =>
    all.find((w) => {
      const d = resolve(root, w.dir);
      return absPath === d || absPath.startsWith(d + sep);
    });

  for (const ws of all) {
    const manifest = `${ws.dir}/package.json`;
    if (ws.layer === undefined) {
      violations.push({
        file: manifest,
        line: 1,
        rule: 'unplaced-workspace',
        message: `${ws.dir} is in no layer: add it to LAYER_OF in scripts/check-layers.ts`,
      });
      continue;
    }
    for (const [dep, field] of Object.entries(ws.declared)) {
      const to = byName.get(dep);
      if (!to) continue;
      const problem = layerProblem(ws, to, field === 'devDependencies');
      if (problem)
        violations.push({ file: manifest, line: 1, ...problem, message: `${field}: ${problem.message}` });
    }
    const wsRoot = resolve(root, ws.dir);
    for (const file of sourceFiles(wsRoot)) {
      const inWs = relative(wsRoot, file).split(sep).join('/');
      const dev = DEV_FILE.test(inWs);
      const text = readFileSync(file, 'utf8');
      const info = ts.preProcessFile(text, true, true);
      for (const imp of info.importedFiles) {
        const spec = imp.fileName;
        const at = { file: rel(file), line: lineOf(text, imp.pos) };
        if (spec.startsWith('.') || spec.startsWith('/')) {
          const target = resolve(dirname(file), spec);
          const to = owner(target);
          if (to === ws) continue;
          if (to) {
            violations.push({
              ...at,
              rule: 'relative-escape',
              message: `'${spec}' reaches into ${to.dir}: import it by its package name ${to.name}`,
            });
          }
          continue;
        }
        if (spec.startsWith('node:')) continue;
        const name = packageName(spec);
        if (BUILTINS.has(name) || name === ws.name) continue;
        const to = byName.get(name);
        if (to) {
          const problem = layerProblem(ws, to, dev);
          if (problem) violations.push({ ...at, ...problem });
          if (!dev && spec === `${name}/testing`) {
            violations.push({
              ...at,
              rule: 'test-double',
              message: `production code imports ${spec}: test doubles are for specs and test support only`,
            });
          }
        }
        if (!ws.dependencies.has(name) && !(dev && ws.devDependencies.has(name))) {
          violations.push(
            ws.devDependencies.has(name)
              ? {
                  ...at,
                  rule: 'dev-only',
                  message: `production code imports ${name}, which ${manifest} lists only in devDependencies`,
                }
              : { ...at, rule: 'undeclared', message: `imports ${name}, which ${manifest} does not declare` },
          );
        }
      }
    }
  }
  return violations;
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkLayers(root);
  for (const v of found) console.error(`${v.file}:${v.line}  ${v.rule}  ${v.message}`);
  console.log(
    found.length === 0
      ? 'layers: every import points down (engine → domain → platform → services → apps)'
      : `layers: ${found.length} violation(s)`,
  );
  process.exit(found.length === 0 ? 0 : 1);
}
