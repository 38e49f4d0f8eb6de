// Renders the Helm chart with its real templates through deploy/tools/chart-template (Go text/template +
// sprig + Helm's functions, built from Debian's Go packages on first use), and parses the stream it prints.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { chartDir, repoRoot } from './repo-paths.js';
import { defaultRelease, type Release } from './values.js';

export const chartTemplateSource = `${repoRoot}/deploy/tools/chart-template`;
export const chartTemplateBinary = `${repoRoot}/.cache/bin/chart-template`;

/** Where Debian's golang-*-dev packages put their sources; the build runs in GOPATH mode, offline. */
const debianGopath = '/usr/share/gocode';
const setupHint = 'run `bash scripts/setup-system.sh` (it installs golang-go and the golang-*-dev packages)';

/** Builds the renderer unless the binary is newer than every .go file beside main.go; returns its path. */
export function ensureChartTemplateBinary(): string {
  const sources = readdirSync(chartTemplateSource).filter((f) => f.endsWith('.go'));
  const newest = Math.max(...sources.map((f) => statSync(join(chartTemplateSource, f)).mtimeMs));
  if (existsSync(chartTemplateBinary) && statSync(chartTemplateBinary).mtimeMs >= newest)
    return chartTemplateBinary;
  mkdirSync(dirname(chartTemplateBinary), { recursive: true });
  // Built beside its final path and renamed, so a concurrent build or a killed one never leaves half a binary.
  const partial = `${chartTemplateBinary}.${process.pid}.partial`;
  const build = spawnSync('go', ['build', '-o', partial, '.'], {
    cwd: chartTemplateSource,
    encoding: 'utf8',
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: process.env.EMOVERSE_GOPATH ?? debianGopath,
      GOPROXY: 'off',
      GOFLAGS: '',
      GOCACHE: `${repoRoot}/.cache/go-build`,
    },
  });
  if ((build.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error(`chart-template: the Go toolchain (go) is not installed; ${setupHint}`);
  if (build.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(
      `chart-template: go build in ${chartTemplateSource} failed (${setupHint} if a package is missing):\n${build.stderr}`,
    );
  }
  renameSync(partial, chartTemplateBinary);
  return chartTemplateBinary;
}

export interface ChartTemplateOptions {
  /** The chart directory; deploy/helm/emoverse unless given. */
  chart?: string;
  /** Values files merged in order over the chart's values.yaml, like `helm template -f`. */
  valuesFiles?: string[];
  /** `a.b=c` expressions merged after the files, like `helm template --set`. */
  set?: string[];
  /** Like `--set-string`: merged last, values kept as strings. */
  setString?: string[];
  release?: Release;
  /** .Capabilities.KubeVersion; v1.27.0 unless given. */
  kubeVersion?: string;
  /** A YAML stream of objects `lookup` finds, as if already in the cluster (an upgrade); none unless given. */
  lookup?: string;
}

/** The YAML stream `helm template` would print; throws with the renderer's message (file, line, path) on error. */
export function chartTemplate(o: ChartTemplateOptions = {}): string {
  const release = o.release ?? defaultRelease;
  const args = [
    ...(o.valuesFiles ?? []).flatMap((f) => ['-f', f]),
    ...(o.set ?? []).flatMap((s) => ['--set', s]),
    ...(o.setString ?? []).flatMap((s) => ['--set-string', s]),
    '--release',
    release.name,
    '--namespace',
    release.namespace,
    ...(o.kubeVersion ? ['--kube-version', o.kubeVersion] : []),
    ...(o.lookup ? ['--lookup', o.lookup] : []),
    o.chart ?? chartDir,
  ];
  const run = spawnSync(ensureChartTemplateBinary(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`chart-template: ${run.error.message}`);
  if (run.status !== 0) throw new Error(run.stderr.trim() || `chart-template exited with ${run.status}`);
  return run.stdout;
}

export interface RenderedObject {
  /** The template it came from, e.g. emoverse/templates/deployments.yaml. */
  source: string;
  object: KubernetesObject;
}

/**
 * The objects of a `helm template` stream, each with its `# Source:`. Parsed as YAML 1.1, as the API server's
 * YAML decoder reads manifests (an unquoted `yes` or `on` is a boolean there).
 */
export function parseRenderedStream(stream: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const part of stream.split(/^---[ \t]*$/m)) {
    if (!part.trim()) continue;
    const source = /^# Source: (.+)$/m.exec(part)?.[1] ?? '?';
    const doc = parseDocument(part, { version: '1.1', uniqueKeys: true });
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const object = doc.toJS() as KubernetesObject | null;
    if (object !== null) out.push({ source, object });
  }
  return out;
}

/** Renders the chart with its templates and returns the objects (see chartTemplate for the options). */
export function renderChartTemplates(o: ChartTemplateOptions = {}): RenderedObject[] {
  return parseRenderedStream(chartTemplate(o));
}
