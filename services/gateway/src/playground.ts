// The playground page's files (built by scripts/build-playground.ts into dist/playground), served at / beside the RPCs.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The only paths served, and their types: nothing else on disk is reachable. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** dist/playground, whether this module runs from dist/ or (in tests) from src/. */
export function playgroundDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'playground'), join(here, '..', 'dist', 'playground')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0];
}

/** A fallback for service-kit's serveBrowsers: GET of the page's files; false for anything else. */
export function playgroundFiles(dir = playgroundDir()) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const entry = FILES[path];
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    let body: Buffer;
    try {
      body = await readFile(join(dir, entry.file));
    } catch {
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end('the playground is not built: npm run build\n');
      return true;
    }
    res.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
