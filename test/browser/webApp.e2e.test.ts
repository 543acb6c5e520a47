/**
 * How a node serves the web chat (src/server/webApp.ts) and GraphiQL, over plain HTTP: index.html
 * at `/`, hashed assets with their content types and immutable caching, 404 for anything else
 * (and for attempts to leave the build folder), a hint page when the chat is not built, and a
 * GraphiQL page that loads nothing from a CDN.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveWebApp } from '../../src/server/webApp.js';
import { ensureWebBuilt } from '../support/browser.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;

beforeAll(async () => {
  ensureWebBuilt();
  node = await startInProcessNode();
}, 120_000);
afterAll(stopAllInProcessNodes);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as given (no URL normalisation by a client). */
function get(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web chat at /', () => {
  it('serves index.html, uncached', async () => {
    const page = await get(node.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<div id="root">');
    // Everything it loads is the node's own.
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves the hashed assets with their content types, cached for good', async () => {
    const page = await get(node.url, '/');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(page.body)![1]!;
    const js = await get(node.url, script);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(Number(js.headers['content-length'])).toBe(Buffer.byteLength(js.body));
    const css = await get(node.url, style);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await get(node.url, script, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers 404 for anything else, including a way out of the build folder', async () => {
    for (const path of ['/nope', '/assets/missing.js', '/%2e%2e/package.json', '/../package.json', '/assets/..%2f..%2fpackage.json', '/.vite/manifest.json']) {
      const answer = await get(node.url, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('"name": "roomlog"');
    }
    expect((await get(node.url, '/', 'POST')).status).toBe(404);
  });

  it('without a build, / says how to make one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'roomlog-web-'));
    const server: Server = createServer((req, res) => {
      serveWebApp(req, res, empty).then((served) => {
        if (!served) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await get(base, '/');
      expect(page.status).toBe(503);
      expect(page.body).toContain('npm run build:web');
      expect((await get(base, '/assets/x.js')).status).toBe(404);
    } finally {
      server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('GraphiQL at /graphql', () => {
  it('is served whole by the node: no script, style or font from a CDN', async () => {
    const page = await get(node.url, '/graphql', 'GET', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|fonts\.googleapis/);
    expect(page.body).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
    // Its script and style are files of the node's own (src/server/graphiql.ts), named by content hash.
    const files = [...page.body.matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
    const bodies = await Promise.all(files.map((file) => get(node.url, file)));
    expect(bodies.map((file) => file.status)).toEqual(files.map(() => 200));
    const all = bodies.map((file) => file.body).join('\n');
    expect(all).toContain('YogaGraphiQL');
    expect(all).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|fonts\.googleapis/);
  });
});
