import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hintPageHeaders, webChatHeaders } from './securityHeaders.js';

/** Where `npm run build:web` puts the web chat (client/web/vite.config.ts). */
export const defaultWebRoot = join(packageRoot(fileURLToPath(new URL('.', import.meta.url))), 'client', 'web', 'dist');

/**
 * The checkout this file belongs to: the nearest directory up with a package.json. This file runs
 * from src/server/ (tsx, tests) and from dist/src/server/ (the build), so no fixed `../..` fits both.
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roomlog</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>roomlog</h1>
<p>The web chat is not built yet. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it) and reload.</p>
<p>The API and GraphiQL are at <a href="/graphql">/graphql</a>.</p>
</body></html>
`;

/**
 * Serves the built web chat: `/` is index.html (never cached, so a new build shows at once),
 * `/assets/*` are Vite's content-hashed files (cached for good), other files in the build
 * folder are served with a short cache. Answers false for anything it does not serve (the caller
 * then answers 404), so it never shadows the API's paths. Every answer carries the chat's
 * Content-Security-Policy (securityHeaders.ts): only its own scripts, connections to this node,
 * never inside a frame.
 */
export async function serveWebApp(req: IncomingMessage, res: ServerResponse, root = defaultWebRoot): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0] || '/';
  let relative: string;
  try {
    relative = decodeURIComponent(path === '/' ? '/index.html' : path);
  } catch {
    return false;
  }
  // No way out of the build folder: reject traversal and hidden files outright.
  const base = root.endsWith(sep) ? root : root + sep;
  const file = normalize(join(base, relative));
  if (!file.startsWith(base) || relative.includes('\0') || relative.split('/').some((part) => part.startsWith('.'))) return false;

  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    if (path !== '/') return false;
    res.writeHead(503, { ...hintPageHeaders(), 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
    return true;
  }
  const hashed = relative.startsWith('/assets/');
  res.writeHead(200, {
    ...webChatHeaders(req),
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : relative === '/index.html' ? 'no-cache' : 'public, max-age=300',
  });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  await new Promise<void>((resolve, reject) => {
    createReadStream(file).on('error', reject).pipe(res).on('finish', resolve).on('close', resolve);
  });
  return true;
}
