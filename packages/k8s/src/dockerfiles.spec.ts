// No Docker engine runs here, so the images are checked statically: each Dockerfile is parsed
// (dockerfile-ast), every COPY source must exist in the repository (the build context) and not be
// filtered out by its .dockerignore, stages must be defined before use, base images pinned, the final
// stage non-root, ffmpeg where video is decoded, and the GPU variants must carry the ORT CUDA EP libraries
// of the same version as onnxruntime-node plus the Vulkan loader and NVIDIA_DRIVER_CAPABILITIES=...graphics.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse } from 'yaml';
import { chartDir, dockerDir, repoRoot } from './private/repo-paths.js';

const services: Record<string, { key: string; ffmpeg: boolean }> = {
  'frame-extractor': { key: 'frameExtractor', ffmpeg: true },
  'au-scorer': { key: 'auScorer', ffmpeg: true },
  'caption-generator': { key: 'captionGenerator', ffmpeg: false },
  trainer: { key: 'trainer', ffmpeg: false },
  gateway: { key: 'gateway', ffmpeg: true },
};
const gpuVariants = ['trainer', 'gateway'];

interface Parsed {
  file: string;
  dockerfile: Dockerfile;
  args: Record<string, string>;
  /** Instructions of the last stage (the image that ships). */
  final: Instruction[];
  text: string;
}

function load(file: string): Parsed {
  const text = readFileSync(`${dockerDir}/${file}`, 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const args: Record<string, string> = {};
  for (const a of dockerfile.getInitialARGs()) {
    const p = a.getProperty();
    if (p?.getValue()) args[p.getName()] = p.getValue() as string;
  }
  const froms = dockerfile.getFROMs();
  const lastLine = froms[froms.length - 1].getRange().start.line;
  const final = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= lastLine);
  return { file, dockerfile, args, final, text };
}

const expand = (s: string, args: Record<string, string>) =>
  s.replace(/\$\{?(\w+)\}?/g, (_, n) => args[n] ?? `\${${n}}`);
const allArgs = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const runText = (instrs: Instruction[]) =>
  instrs
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArgumentsContent() ?? '')
    .join('\n');
const envOf = (instrs: Instruction[]) =>
  instrs
    .filter((i) => i.getKeyword() === 'ENV')
    .map((i) => i.getArgumentsContent() ?? '')
    .join('\n');

/** Patterns of the build context filter, as plain path prefixes (`**\/x` matches x anywhere). */
function ignored(file: string, path: string): boolean {
  const patterns = readFileSync(`${dockerDir}/${file}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const parts = path.replace(/\/$/, '').split('/');
  return patterns.some((p) => {
    if (p.startsWith('**/')) return parts.includes(p.slice(3));
    return path === p || path.startsWith(`${p}/`);
  });
}

const files = readdirSync(dockerDir).filter((f) => f.endsWith('.Dockerfile'));
const parsed = files.map(load);
const byName = (name: string) => parsed.find((p) => p.file === `${name}.Dockerfile`) as Parsed;

describe('Dockerfiles', () => {
  test('one per service, plus GPU variants of trainer and gateway', () => {
    assert.deepEqual(
      files.sort(),
      [...Object.keys(services), ...gpuVariants.map((s) => `${s}-gpu`)].map((s) => `${s}.Dockerfile`).sort(),
    );
  });

  for (const p of parsed) {
    test(`${p.file}: multi-stage, pinned bases, stages defined before use, COPY sources exist`, () => {
      const froms = p.dockerfile.getFROMs();
      assert.ok(froms.length >= 2, 'multi-stage');
      const stages: string[] = [];
      for (const from of froms) {
        const image = expand(from.getImage() ?? '', p.args);
        assert.ok(!image.includes('${'), `${p.file}: FROM ${from.getImage()} uses an ARG without a default`);
        if (!stages.includes(image)) {
          assert.match(
            image,
            /^[a-z0-9./-]+:[A-Za-z0-9._-]+$/,
            `${p.file}: base image ${image} is pinned to a tag`,
          );
          assert.ok(!image.endsWith(':latest'), `${p.file}: ${image}`);
        }
        const stage = from.getBuildStage();
        assert.ok(stage, `${p.file}: every stage is named`);
        stages.push(stage);
      }
      assert.equal(new Set(stages).size, stages.length, 'stage names are unique');
      for (const copy of p.dockerfile.getCOPYs()) {
        const fromStage = copy.getFromFlag()?.getValue();
        const args = allArgs(copy).filter((a) => !a.startsWith('--'));
        const sources = args.slice(0, -1);
        assert.ok(sources.length > 0, `${p.file}: COPY ${copy.getArgumentsContent()}`);
        if (fromStage) {
          const line = copy.getRange().start.line;
          const earlier = froms.filter((f) => f.getRange().start.line < line).map((f) => f.getBuildStage());
          assert.ok(
            earlier.includes(fromStage),
            `${p.file}: COPY --from=${fromStage} names an earlier stage`,
          );
          continue;
        }
        for (const src of sources) {
          assert.ok(
            existsSync(`${repoRoot}/${src}`),
            `${p.file}: COPY source ${src} exists in the repository`,
          );
          assert.ok(
            !ignored(p.file, src),
            `${p.file}: COPY source ${src} is not excluded by the .dockerignore`,
          );
        }
      }
    });

    test(`${p.file}: builds with ONNXRUNTIME_NODE_INSTALL=skip npm ci and runs as non-root`, () => {
      const build = p.dockerfile
        .getInstructions()
        .filter((i) => i.getRange().start.line < p.final[0].getRange().start.line);
      assert.match(envOf(build), /ONNXRUNTIME_NODE_INSTALL=skip/);
      assert.match(runText(build), /npm ci\b/);
      assert.match(runText(build), /npm prune --omit=dev/);
      const users = p.final
        .filter((i) => i.getKeyword() === 'USER')
        .map((i) => i.getArgumentsContent() ?? '');
      assert.equal(users.length, 1, 'the final stage sets USER');
      assert.match(users[0], /^10001(:10001)?$/, 'the uid the chart runs as');
      for (const ignore of ['**/node_modules', '**/dist', '.git']) {
        assert.ok(
          readFileSync(`${dockerDir}/${p.file}.dockerignore`, 'utf8').split('\n').includes(ignore),
          ignore,
        );
      }
    });
  }

  for (const [service, { key, ffmpeg }] of Object.entries(services)) {
    for (const name of gpuVariants.includes(service) ? [service, `${service}-gpu`] : [service]) {
      test(`${name}.Dockerfile: starts the service as its package does, on the chart's port${ffmpeg ? ', with ffmpeg' : ''}`, () => {
        const p = byName(name);
        const pkg = JSON.parse(readFileSync(`${repoRoot}/services/${service}/package.json`, 'utf8'));
        assert.equal(pkg.scripts.start, 'node dist/main.js');
        const cmd = p.final.find((i) => i.getKeyword() === 'CMD');
        assert.deepEqual(
          cmd
            ?.getArguments()
            .map((a) => a.getValue().replace(/[",[\]]/g, ''))
            .filter(Boolean),
          ['node', `services/${service}/dist/main.js`],
        );
        assert.match(
          runText(p.dockerfile.getInstructions()),
          new RegExp(`--filter=@emoverse/${service}\\.\\.\\.`),
        );
        const values = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8'));
        const expose = p.final.find((i) => i.getKeyword() === 'EXPOSE');
        assert.ok(allArgs(expose as Instruction).includes(String(values[key].grpcPort)));
        assert.equal(/\bffmpeg\b/.test(runText(p.final)), ffmpeg);
        assert.match(runText(p.final), /\btini\b/);
      });
    }
  }

  for (const service of gpuVariants) {
    test(`${service}-gpu.Dockerfile: CUDA EP libraries of onnxruntime-node's version, Vulkan loader, graphics capability`, () => {
      const p = byName(`${service}-gpu`);
      const lock = JSON.parse(readFileSync(`${repoRoot}/package-lock.json`, 'utf8'));
      const ortVersion = lock.packages['node_modules/onnxruntime-node'].version;
      assert.equal(p.args.ORT_VERSION, ortVersion, 'the NuGet package matches onnxruntime-node');
      assert.match(
        p.args.CUDA_IMAGE,
        /^nvidia\/cuda:12\.[0-9.]+-cudnn-runtime-/,
        'CUDA 12 with cuDNN (9 ships with 12.x cudnn images)',
      );
      const ortStage = runText(p.dockerfile.getInstructions());
      assert.match(ortStage, /microsoft\.ml\.onnxruntime\.gpu\.linux/);
      for (const lib of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'])
        assert.ok(ortStage.includes(lib), lib);
      const finalCopies = p.dockerfile
        .getCOPYs()
        .filter((c) => c.getRange().start.line >= p.final[0].getRange().start.line);
      const copyFrom = (stage: string) => finalCopies.find((c) => c.getFromFlag()?.getValue() === stage);
      assert.deepEqual(
        allArgs(copyFrom('ort-cuda') as Instruction).filter((a) => !a.startsWith('--')),
        ['/ort/', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/'],
      );
      assert.match(runText(p.final), /\blibvulkan1\b/);
      const env = envOf(p.final);
      assert.match(env, /NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
      assert.match(env, /XDG_RUNTIME_DIR=\//);
      assert.deepEqual(
        allArgs(copyFrom('node') as Instruction).filter((a) => !a.startsWith('--')),
        ['/usr/local/bin/node', '/usr/local/bin/node'],
      );
      // values-gpu.yaml runs the -gpu tag of this image.
      const gpuValues = parse(readFileSync(`${chartDir}/values-gpu.yaml`, 'utf8'));
      const block = service === 'trainer' ? gpuValues.training : gpuValues.gateway;
      assert.match(block.image.tag, /-gpu$/);
    });
  }

  test('the COPY check fails for a source that is not in the repository', () => {
    const p = DockerfileParser.parse('FROM node:20-bookworm-slim AS a\nCOPY no/such/dir/ x/\n');
    const src = allArgs(p.getCOPYs()[0])[0];
    assert.equal(existsSync(`${repoRoot}/${src}`), false);
    assert.equal(ignored('gateway.Dockerfile', 'packages/x/node_modules'), true);
    assert.equal(ignored('gateway.Dockerfile', 'packages/x/src'), false);
  });
});
