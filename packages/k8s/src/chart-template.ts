// `npm run chart:template -- [-f values.yaml]... [--release NAME] [--namespace NS] [--set a.b=c]...`: renders
// deploy/helm/emoverse with its real templates (what `helm template` prints), checks every object against
// its kind's schema, and prints the stream. On any problem (a missing or invalid values file, a value the
// chart's values.schema.json rejects, a template error, an invalid object) it prints no stream, says what
// and where on stderr, and exits 1.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chartTemplate, parseRenderedStream } from './private/chart-renderer.js';
import { validateObject } from './private/validate.js';

try {
  const { values, positionals } = parseArgs({
    options: {
      values: { type: 'string', short: 'f', multiple: true, default: [] },
      set: { type: 'string', multiple: true, default: [] },
      'set-string': { type: 'string', multiple: true, default: [] },
      release: { type: 'string', default: 'emoverse' },
      namespace: { type: 'string', default: 'emoverse' },
      'kube-version': { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length)
    throw new Error(`unexpected argument(s): ${positionals.join(' ')} (values files go after -f)`);
  // npm runs scripts from the repository root; paths are meant from where the user typed the command.
  const from = process.env.INIT_CWD ?? process.cwd();
  const stream = chartTemplate({
    valuesFiles: (values.values as string[]).map((f) => resolve(from, f)),
    set: values.set as string[],
    setString: values['set-string'] as string[],
    release: { name: values.release as string, namespace: values.namespace as string },
    kubeVersion: values['kube-version'] as string | undefined,
  });
  const problems = parseRenderedStream(stream).flatMap(({ source, object }) =>
    validateObject(object).map((p) => `${source}: ${p}`),
  );
  if (problems.length) throw new Error(`${problems.length} invalid field(s):\n${problems.join('\n')}`);
  process.stdout.write(stream);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
