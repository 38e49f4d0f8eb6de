// Builds the playground page into dist/playground: playground/app.ts bundled by esbuild, its HTML and CSS copied.
//   node --import tsx scripts/build-playground.ts [outDir]
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles the page for browsers (no CDN: every module comes from node_modules or the workspace). */
export async function buildPlayground(outDir = join(root, 'dist', 'playground')): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'playground', 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) await copyFile(join(root, 'playground', f), join(outDir, f));
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildPlayground(process.argv[2]);
  console.log(`playground built in ${out}`);
}
