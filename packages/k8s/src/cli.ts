// `npm run manifests -w packages/k8s -- [-f values.yaml]... [--release NAME] [--namespace NS]`:
// prints every object the chart produces as a YAML stream (what `helm template` prints), after validating
// each against its kind's schema; exits 1 with the problems if any object is invalid.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertValid, loadValuesFiles, renderManifests, toYamlStream } from './index.js';
import { chartDir } from './private/repo-paths.js';

const { values } = parseArgs({
  options: {
    values: { type: 'string', short: 'f', multiple: true, default: [] },
    release: { type: 'string', default: 'emoverse' },
    namespace: { type: 'string', default: 'emoverse' },
  },
});

try {
  // npm runs the script inside packages/k8s; paths are meant from where the user typed the command.
  const from = process.env.INIT_CWD ?? process.cwd();
  const files = [`${chartDir}/values.yaml`, ...(values.values as string[]).map((f) => resolve(from, f))];
  const objects = renderManifests(await loadValuesFiles(...files), {
    name: values.release as string,
    namespace: values.namespace as string,
  });
  assertValid(objects);
  process.stdout.write(toYamlStream(objects));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
