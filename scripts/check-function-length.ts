// Services stay wiring: no function in services/*/src (specs aside) is longer than 80 lines.
//
// Run by `npm run lint` after the layer rule; the rule itself is in shared/ARCHITECTURE.md ("a service's folder
// reads top to bottom ... one small function per RPC or event"). Every function, method, arrow function and
// accessor with a body is measured from its first line to its last, nested functions included in their
// parent's count. A longer one belongs in a package (the domain's logic) or in named parts.
//
//   node --import tsx scripts/check-function-length.ts [repo root]    one line per function; exit code 1 if any
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_LINES = 80;

/** Specs and test support may hold long test bodies; they are not the service. */
const SKIPPED_FILE = /(\.spec\.[cm]?ts$)|((^|\/)test-support\.[cm]?ts$)|(\.d\.ts$)/;

export interface LongFunction {
  /** Repository-relative path. */
  file: string;
  line: number;
  name: string;
  lines: number;
}

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (/\.[cm]?ts$/.test(name) && !SKIPPED_FILE.test(name)) out.push(path);
  }
  return out;
}

function nameOf(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText(sf);
  return `(${ts.SyntaxKind[node.kind]})`;
}

/** The functions of one source text longer than `max` lines. */
export function longFunctions(file: string, text: string, max = MAX_LINES): LongFunction[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max) found.push({ file, line: first + 1, name: nameOf(node, sf), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Every function over MAX_LINES in the services' sources under `root`. */
export function checkFunctionLength(root: string): LongFunction[] {
  const services = join(root, 'services');
  const found: LongFunction[] = [];
  for (const service of readdirSync(services).sort()) {
    const src = join(services, service, 'src');
    if (!isDir(src)) continue;
    for (const path of tsFiles(src)) {
      const file = relative(root, path).split(sep).join('/');
      found.push(...longFunctions(file, readFileSync(path, 'utf8')));
    }
  }
  return found;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkFunctionLength(root);
  for (const f of found)
    console.error(`${f.file}:${f.line}  ${f.name} is ${f.lines} lines (at most ${MAX_LINES} in a service)`);
  console.log(
    found.length === 0
      ? `function length: no function in services/*/src is over ${MAX_LINES} lines`
      : `function length: ${found.length} function(s) over ${MAX_LINES} lines`,
  );
  process.exit(found.length === 0 ? 0 : 1);
}
