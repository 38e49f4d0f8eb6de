// One-off scaffolding helper: node scripts/mkpkg.mjs <dir> <name> <description> [deps...]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [dir, name, description, ...deps] = process.argv.slice(2);
mkdirSync(`${dir}/src`, { recursive: true });
const dependencies = Object.fromEntries(deps.map((d) => {
  const at = d.lastIndexOf('@');
  return at > 0 ? [d.slice(0, at), d.slice(at + 1)] : [d, '*'];
}));
const isService = dir.startsWith('services/');
const pkg = {
  name, version: '0.1.0', private: true, type: 'module', description,
  exports: { '.': { source: './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
  scripts: {
    build: 'tsc -p tsconfig.json',
    test: 'node ../../scripts/run-tests.mjs',
    ...(isService ? { start: 'node dist/main.js', dev: 'node --import tsx --conditions=source src/main.ts' } : {}),
  },
  dependencies,
};
if (!existsSync(`${dir}/package.json`)) writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { rootDir: 'src', outDir: 'dist' },
  include: ['src'],
  exclude: ['src/**/*.spec.ts'],
}, null, 2) + '\n');
if (!existsSync(`${dir}/src/index.ts`)) writeFileSync(`${dir}/src/index.ts`, `// ${description}\nexport {};\n`);
