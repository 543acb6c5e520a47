/**
 * Issue 11, finding 10 (all but the Unicode names, in unicodeNames.e2e.test.ts): the smaller
 * hardening items, each shown as the attack or the exposure it was, against the default settings
 * unless a setting is the fix:
 *  - DATA_DIR and events.sqlite were world-readable: now 0700 and 0600;
 *  - a cut-short JWT secret file was accepted: now the node refuses to start (as for a short JWT_SECRET);
 *  - a token without `exp` (valid for ever) was accepted: now UNAUTHENTICATED over HTTP, 4403 over WebSocket;
 *  - CORS reflected any origin with credentials, a form post ran mutations, and any site could open
 *    a WebSocket from a visitor's browser: now CORS_ORIGINS, Yoga's CSRF prevention, an Origin check;
 *  - no Content-Security-Policy or frame-ancestors (in a browser: test/browser/contentSecurityPolicy.e2e.test.ts);
 *  - GraphiQL's 9 MB sent uncompressed and uncached on every visit: now compressed, cached, and GRAPHIQL=false;
 *  - /metrics open to all on the API port: now METRICS_TOKEN and METRICS_PORT (default unchanged).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../src/config.js';
import { connectRaw, createUser, errorCodes, http } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes, type InProcessNode } from '../support/inProcessNode.js';
import { CREATE_SESSION } from './requests.js';

const SECRET = randomBytes(24).toString('base64url'); // 32 bytes
const METRICS_TOKEN = randomBytes(18).toString('base64url');
const scratch = mkdtempSync(join(tmpdir(), 'roomlog-hardening-'));

/** A node with the default settings (and a known secret, to sign tokens by hand). */
let node: InProcessNode;
/** A node with every hardening setting: one listed origin, no GraphiQL, /metrics on its own port behind a token. */
let configured: InProcessNode;

beforeAll(async () => {
  node = await startInProcessNode({ env: { JWT_SECRET: SECRET } });
  configured = await startInProcessNode({
    env: { CORS_ORIGINS: 'https://chat.example', GRAPHIQL: 'false', METRICS_PORT: '0', METRICS_TOKEN },
  });
});
afterAll(async () => {
  await stopAllInProcessNodes();
  rmSync(scratch, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One raw HTTP exchange: headers go out exactly as given (Origin included), the body comes back as bytes. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('DATA_DIR is private to the node', () => {
  it('a fresh DATA_DIR is 0700, the database and the secret 0600', async () => {
    const dataDir = join(scratch, 'fresh', 'data');
    const fresh = await startInProcessNode({ dataDir });
    await createUser(fresh.url, 'ada'); // something in the log
    expect(mode(dataDir)).toBe(0o700);
    for (const name of ['events.sqlite', 'events.sqlite-wal', 'events.sqlite-shm', 'jwt-secret']) {
      if (name === 'events.sqlite' || name === 'jwt-secret') expect(existsSync(join(dataDir, name)), name).toBe(true);
      if (existsSync(join(dataDir, name))) expect(mode(join(dataDir, name)), name).toBe(0o600);
    }
    await fresh.stop();
  });

  it('an existing world-readable DATA_DIR of ours, and its database, are tightened', async () => {
    const dataDir = join(scratch, 'existing');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'events.sqlite'), '', { mode: 0o644 }); // an empty file is an empty database
    chmodSync(join(dataDir, 'events.sqlite'), 0o644);
    const existing = await startInProcessNode({ dataDir });
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'events.sqlite'))).toBe(0o600);
    await existing.stop();
  });
});

describe('the JWT secret', () => {
  it.each([
    ['an empty', ''],
    ['a cut-short', randomBytes(32).toString('base64url').slice(0, 20)],
  ])('%s secret file (a crash while an older version wrote it) stops the node at start, saying what to do', async (_what, content) => {
    const dataDir = join(scratch, `secret-${randomBytes(4).toString('hex')}`);
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'jwt-secret'), content);
    await expect(startInProcessNode({ dataDir })).rejects.toThrow(/jwt-secret holds a \d+-byte secret, under the 32 bytes required.*Delete it/);
  });

  it('a JWT_SECRET under 32 bytes is refused by the configuration', () => {
    let error: unknown;
    try {
      loadConfig({ JWT_SECRET: 'sixteen-chars-ok' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toMatch(/JWT_SECRET=.*at least 32 bytes/);
  });
});

describe('session tokens must expire', () => {
  const sign = (withExp: boolean) => {
    let jwt = new SignJWT({ name: 'forever' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u_forever').setIssuer('roomlog').setIssuedAt();
    if (withExp) jwt = jwt.setExpirationTime('1h');
    return jwt.sign(new TextEncoder().encode(SECRET));
  };

  it('a hand-signed token without exp: UNAUTHENTICATED over HTTP (with exp it works: the control)', async () => {
    const control = await http(node.url, '{ me { id name } }', {}, await sign(true));
    expect(control.data).toEqual({ me: { id: 'u_forever', name: 'forever' } });
    const forever = await http(node.url, '{ me { id name } }', {}, await sign(false));
    expect(errorCodes(forever)).toEqual(['UNAUTHENTICATED']);
  });

  it('a hand-signed token without exp: the WebSocket is closed with 4403', async () => {
    const control = await connectRaw(node.wsUrl);
    await control.init(await sign(true));
    control.close();
    const socket = await connectRaw(node.wsUrl);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${await sign(false)}` } });
    expect((await socket.waitForClose()).code).toBe(4403);
  });
});

describe('other sites\' pages', () => {
  const json = (origin: string) => ({ origin, 'content-type': 'application/json' });
  const query = JSON.stringify({ query: '{ __typename }' });

  it('CORS: no site is granted by default, and a listed one never with credentials', async () => {
    const evil = await raw(`${node.url}/graphql`, { method: 'POST', headers: json('https://evil.example'), body: query });
    expect(evil.status).toBe(200); // answered (a browser keeps it from the page)...
    expect(evil.headers['access-control-allow-origin']).toBeUndefined(); // ...but readable by no other site
    expect(evil.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await raw(`${node.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

    const listed = await raw(`${configured.url}/graphql`, { method: 'POST', headers: json('https://chat.example'), body: query });
    expect(listed.headers['access-control-allow-origin']).toBe('https://chat.example');
    expect(listed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(listed.headers.vary).toMatch(/Origin/);
    const unlisted = await raw(`${configured.url}/graphql`, { method: 'POST', headers: json('https://evil.example'), body: query });
    expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CSRF: a form post cannot run a mutation; JSON posts and GET queries go on as before', async () => {
    const mutation = `mutation { createSession(name: "csrf") { token } }`;
    const forms = [
      { 'content-type': 'application/x-www-form-urlencoded', body: `query=${encodeURIComponent(mutation)}` },
      { 'content-type': 'text/plain', body: JSON.stringify({ query: mutation }) },
      { 'content-type': 'multipart/form-data; boundary=x', body: `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n${mutation}\r\n--x--\r\n` },
    ];
    for (const { body, ...headers } of forms) {
      const answer = await raw(`${node.url}/graphql`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body });
      expect(answer.status, headers['content-type']).toBe(403);
      const parsed = JSON.parse(answer.body.toString()) as { data?: unknown; errors: Array<{ message: string; extensions?: { code?: string } }> };
      expect(parsed.data).toBeUndefined();
      expect(errorCodes(parsed)).toEqual(['FORBIDDEN']);
      expect(parsed.errors[0]!.message).toMatch(/application\/json/);
    }
    expect((await http(node.url, CREATE_SESSION, { name: 'json' })).data).toMatchObject({ createSession: { user: { name: 'json' } } });
    const get = await raw(`${node.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(200);
  });

  /** How an upgrade with this Origin ends: `open`, or the HTTP status it was refused with. */
  const upgrade = (url: string, origin?: string) =>
    new Promise<number | 'open'>((resolve, reject) => {
      const ws = new WebSocket(url, 'graphql-transport-ws', origin ? { origin } : {});
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode!);
        ws.terminate();
      });
      ws.on('error', reject);
    });

  it('WebSocket: another site\'s page cannot connect from a visitor\'s browser; the node\'s own pages, listed sites and non-browsers can', async () => {
    expect(await upgrade(node.wsUrl, 'https://evil.example')).toBe(403);
    expect(await upgrade(node.wsUrl, 'null')).toBe(403);
    expect(await upgrade(node.wsUrl, node.url)).toBe('open'); // the web chat and GraphiQL
    expect(await upgrade(node.wsUrl)).toBe('open'); // the CLI, the library in Node, the balancer's checks
    expect(await upgrade(configured.wsUrl, 'https://chat.example')).toBe('open');
    expect(await upgrade(configured.wsUrl, 'https://evil.example')).toBe(403);
  });
});

describe('the node\'s pages carry a Content-Security-Policy', () => {
  it.each([
    ['the web chat', '/', "script-src 'self'"],
    ['GraphiQL', '/graphql', "script-src 'self'"],
  ])('%s: its own scripts only, never framed, no sniffing, no referrer', async (_page, path, scripts) => {
    const answer = await raw(`${node.url}${path}`, { headers: { accept: 'text/html' } });
    const csp = String(answer.headers['content-security-policy']);
    expect(csp).toContain(scripts);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`connect-src 'self' ws://${new URL(node.url).host}`);
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('GraphiQL', () => {
  it('a small page whose files are compressed and cached for good; the page is revalidated by ETag', async () => {
    const page = await raw(`${node.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip, br' } });
    expect(page.status).toBe(200);
    expect(page.body.length).toBeLessThan(2_000); // was 9 MB, all inline
    const again = await raw(`${node.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip, br', 'if-none-match': String(page.headers.etag) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    // The page's files, and the editor's workers that its start script names.
    const files = [...page.body.toString().matchAll(/(?:src|href)="(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThanOrEqual(3);
    let sent = 0;
    let plain = 0;
    for (const file of files) {
      const br = await raw(`${node.url}${file}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(br.status, file).toBe(200);
      expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(br.headers.vary).toBe('Accept-Encoding');
      const identity = await raw(`${node.url}${file}`);
      expect(identity.headers['content-encoding']).toBeUndefined();
      if (identity.body.length > 10_000) {
        expect(br.headers['content-encoding'], file).toBe('br');
        const gzip = await raw(`${node.url}${file}`, { headers: { 'accept-encoding': 'gzip' } });
        expect(gzip.headers['content-encoding']).toBe('gzip');
      }
      sent += br.body.length;
      plain += identity.body.length;
      if (identity.body.length < 10_000) for (const m of identity.body.toString().matchAll(/"(\/graphiql\/[^"]+\.js)"/g)) if (!files.includes(m[1]!)) files.push(m[1]!);
    }
    expect(files.filter((file) => file.includes('worker'))).toHaveLength(3);
    expect(plain).toBeGreaterThan(8_000_000);
    expect(sent).toBeLessThan(plain / 3);
  });

  it('GRAPHIQL=false: no page and no files', async () => {
    const page = await raw(`${configured.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(String(page.headers['content-type'])).not.toMatch(/text\/html/);
    expect(page.body.toString()).not.toContain('graphiql');
    const fromNode = await raw(`${node.url}/graphql`, { headers: { accept: 'text/html' } });
    const file = /src="(\/graphiql\/[^"]+\.js)"/.exec(fromNode.body.toString())![1]!;
    expect((await raw(`${configured.url}${file}`)).status).toBe(404);
  });
});

describe('/metrics', () => {
  it('by default: on the API port, as before (balancers and the benchmarks read it there)', async () => {
    const answer = await raw(`${node.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toMatch(/^chat_/m);
  });

  it('METRICS_PORT moves it to its own listener; METRICS_TOKEN asks for the token', async () => {
    expect((await raw(`${configured.url}/metrics`)).status).toBe(404);
    const metricsUrl = configured.app.metricsUrl()!;
    expect(new URL(metricsUrl).port).not.toBe(String(configured.port));
    expect((await raw(metricsUrl)).status).toBe(401);
    expect((await raw(metricsUrl, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    const answer = await raw(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toMatch(/^chat_/m);
    expect((await raw(new URL('/graphql', metricsUrl).toString())).status).toBe(404);
  });
});
