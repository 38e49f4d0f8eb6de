// scripts/check-layers.ts (run by `npm run lint`) catches imports that point up a layer, on a fixture tree in a temp folder.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkLayers } from '../../scripts/check-layers.ts';

let root: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

function workspace(dir: string, name: string, deps: object = {}, devDeps: object = {}): void {
  write(
    `${dir}/package.json`,
    JSON.stringify({ name, version: '0.1.0', dependencies: deps, devDependencies: devDeps }),
  );
}

/** A small repository that obeys the rule: one workspace per layer, each importing the one below. */
function goodTree(): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  write(
    'package.json',
    JSON.stringify({ name: 'fixture', workspaces: ['packages/*', 'services/*', 'tests'] }),
  );
  workspace('packages/onnx', '@emoverse/onnx');
  write(
    'packages/onnx/src/index.ts',
    "// engine\nimport { join } from 'node:path';\nexport const x = join('a');\n",
  );
  workspace('packages/facs', '@emoverse/facs', { '@emoverse/onnx': '0.1.0' });
  write('packages/facs/src/index.ts', "// domain\nexport { x } from '@emoverse/onnx';\n");
  workspace('packages/bus', '@emoverse/bus', { '@emoverse/facs': '0.1.0' }, { '@emoverse/testing': '0.1.0' });
  write(
    'packages/bus/src/index.ts',
    "// platform\nimport type { x } from '@emoverse/facs';\nexport type X = typeof x;\n",
  );
  write('packages/bus/src/bus.spec.ts', "// a spec may use the test helpers\nimport '@emoverse/testing';\n");
  workspace('packages/testing', '@emoverse/testing');
  write('packages/testing/src/index.ts', '// apps\nexport {};\n');
  workspace('services/gateway', '@emoverse/gateway', { '@emoverse/bus': '0.1.0' });
  write('services/gateway/src/main.ts', "// service\nimport '@emoverse/bus';\n");
  workspace('tests', '@emoverse/tests', { '@emoverse/gateway': '0.1.0' });
  write('tests/x.spec.ts', "// apps may import a service\nimport '@emoverse/gateway';\n");
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'layers-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('check-layers', () => {
  test('a tree whose imports all point down has no violations', () => {
    goodTree();
    assert.deepEqual(checkLayers(root), []);
  });

  test('an engine file importing a domain package is caught, with its file and line', () => {
    goodTree();
    write(
      'packages/onnx/src/bad.ts',
      "// a deliberately bad import\n// import '@emoverse/facs' in a comment is not an import\nimport { x } from '@emoverse/facs';\nexport const y = x;\n",
    );
    const found = checkLayers(root).filter((v) => v.rule === 'layer');
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]!.file, 'packages/onnx/src/bad.ts');
    assert.equal(found[0]!.line, 3);
    assert.match(found[0]!.message, /packages\/onnx \(engine\) imports @emoverse\/facs \(domain\)/);
  });

  test('a type-only or dynamic import up a layer is caught too', () => {
    goodTree();
    write('packages/facs/src/t.ts', "// bad\nimport type { B } from '@emoverse/bus';\nexport type T = B;\n");
    write('packages/onnx/src/d.ts', "// bad\nexport const m = () => import('@emoverse/bus');\n");
    const files = checkLayers(root)
      .filter((v) => v.rule === 'layer')
      .map((v) => v.file)
      .sort();
    assert.deepEqual(files, ['packages/facs/src/t.ts', 'packages/onnx/src/d.ts']);
  });

  test('no package imports a service, and a service imports no other service', () => {
    goodTree();
    write('packages/bus/src/up.ts', "// bad\nimport '@emoverse/gateway';\n");
    workspace('services/trainer', '@emoverse/trainer', { '@emoverse/gateway': '0.1.0' });
    write('services/trainer/src/main.ts', "// bad\nimport '@emoverse/gateway';\n");
    const found = checkLayers(root).filter((v) => v.rule === 'imports-a-service');
    assert.deepEqual(found.map((v) => v.file).sort(), [
      'packages/bus/src/up.ts',
      'services/trainer/package.json',
      'services/trainer/src/main.ts',
    ]);
  });

  test('a relative path into another workspace is caught', () => {
    goodTree();
    write('packages/facs/src/r.ts', "// bad\nexport * from '../../onnx/src/index.js';\n");
    const found = checkLayers(root);
    assert.deepEqual(
      found.map((v) => [v.file, v.rule]),
      [['packages/facs/src/r.ts', 'relative-escape']],
    );
  });

  test('production code may not use the test helpers; specs may', () => {
    goodTree();
    write('packages/bus/src/helper.ts', "// bad\nimport '@emoverse/testing';\n");
    const found = checkLayers(root).map((v) => [v.file, v.rule]);
    assert.deepEqual(found, [
      ['packages/bus/src/helper.ts', 'layer'],
      ['packages/bus/src/helper.ts', 'dev-only'],
    ]);
  });

  test("a package's test doubles (<name>/testing) are for specs only", () => {
    goodTree();
    write('packages/facs/src/x.spec.ts', "// fine\nimport '@emoverse/onnx/testing';\n");
    write(
      'packages/facs/src/x.ts',
      "// bad\nimport { Double } from '@emoverse/onnx/testing';\nexport const d = Double;\n",
    );
    const found = checkLayers(root).map((v) => [v.file, v.rule]);
    assert.deepEqual(found, [['packages/facs/src/x.ts', 'test-double']]);
  });

  test('an import missing from package.json, and a workspace in no layer, are caught', () => {
    goodTree();
    write('packages/onnx/src/n.ts', "// undeclared\nimport 'nats';\n");
    workspace('packages/newcomer', '@emoverse/newcomer');
    const found = checkLayers(root).map((v) => [v.file, v.rule]);
    assert.deepEqual(found, [
      ['packages/newcomer/package.json', 'unplaced-workspace'],
      ['packages/onnx/src/n.ts', 'undeclared'],
    ]);
  });
});
