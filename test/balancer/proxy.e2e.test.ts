/**
 * What the balancer passes through. Against an echo backend that reports exactly what reached it:
 * WebSocket upgrades keep their path, headers and subprotocol and gain X-Forwarded-For (the real
 * client address, appended to any the client sent); plain HTTP likewise, with keep-alive on both
 * sides and streaming without buffering. Against a real node: queries and mutations, GraphiQL,
 * roomEvents over SSE and over graphql-ws. And the balancer's own /metrics.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ROOM_EVENTS_SUBSCRIPTION,
  assertNoStackTrace,
  collectRoomEvents,
  createRoom,
  createUser,
  range,
  sendMessage,
  wsClient,
  type RoomEventInfo,
} from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import type { ServerHandle } from '../support/nodeProcess.js';
import { backendOf, killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';
import { startFakeBackend, type FakeBackend, type SeenRequest } from './fakeBackend.js';
import { closeSocket, mustOpen, rawTcp } from './lightClients.js';

afterAll(stopAllInProcessNodes);
afterAll(killAllBalancers);

describe('through to an echo backend', () => {
  let echo: FakeBackend;
  let balancer: BalancerHandle;

  beforeAll(async () => {
    echo = await startFakeBackend();
    balancer = await startBalancer({ env: { BACKENDS: echo.url } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 5_000, 'echo ready');
  });
  afterAll(() => echo?.close());

  /** Opens a socket through the balancer and returns what the backend saw of the upgrade. */
  async function upgradeSeen(ws: WebSocket): Promise<SeenRequest> {
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve(data.toString()));
      ws.once('close', (code) => reject(new Error(`closed ${code}`)));
    });
    return JSON.parse(first) as SeenRequest;
  }

  it('a WebSocket upgrade arrives as sent — path, query, headers, subprotocol — plus X-Forwarded-For and -Proto', async () => {
    const ws = new WebSocket(`${balancer.url.replace('http', 'ws')}/graphql?room=abc`, ['graphql-transport-ws', 'other'], {
      localAddress: '127.0.0.2',
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-custom': 'kept', 'user-agent': 'balancer-test', cookie: 'a=b' },
    });
    const seen = await upgradeSeen(ws);
    expect(ws.protocol, 'the subprotocol the backend chose reaches the client').toBe('graphql-transport-ws');
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/graphql?room=abc');
    expect(seen.headers['sec-websocket-protocol']).toBe('graphql-transport-ws,other');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['user-agent']).toBe('balancer-test');
    expect(seen.headers.cookie).toBe('a=b');
    expect(seen.headers.upgrade).toBe('websocket');
    expect(seen.headers['x-forwarded-for'], 'the real client address appended to what the client sent').toBe('203.0.113.7, 127.0.0.2');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    // Exactly one X-Forwarded-For line: the client's own is replaced by the combined one.
    expect(seen.rawHeaders.filter((name) => name.toLowerCase() === 'x-forwarded-for')).toHaveLength(1);

    // Frames pass untouched both ways, large and binary ones included.
    const big = Buffer.alloc(300_000, 7);
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(Buffer.from(data.toString()))));
    ws.send(big.toString());
    expect((await echoed).equals(big)).toBe(true);
    await closeSocket(ws);
  });

  it('without a client X-Forwarded-For, the backend sees the client address alone', async () => {
    const ws = new WebSocket(balancer.wsUrl, 'graphql-transport-ws');
    const seen = await upgradeSeen(ws);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.remoteAddress, 'the TCP peer is the balancer').toBe('127.0.0.1');
    await closeSocket(ws);
  });

  it('plain HTTP: method, path, body and headers pass, X-Forwarded-For is added, hop-by-hop headers are not forwarded', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const seen = await new Promise<SeenRequest & { body: string }>((resolve, reject) => {
      const req = request(`${balancer.url}/graphql?x=1`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-forwarded-for': '198.51.100.1',
          'x-custom': 'kept',
          'keep-alive': 'timeout=5',
          'proxy-connection': 'keep-alive',
        },
      });
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.once('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`HTTP ${res.statusCode}: ${text}`))));
      });
      req.once('error', reject);
      req.end(body);
    });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/graphql?x=1');
    expect(seen.body).toBe(body);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['x-forwarded-for']).toBe('198.51.100.1, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['proxy-connection']).toBeUndefined();
  });

  it('keep-alive: many requests on one client connection, and the balancer reuses its connections to the backend', async () => {
    // Ten requests back to back on ONE client TCP connection.
    const tcp = await rawTcp(balancer.port);
    const before = echo.requests.length;
    for (let i = 0; i < 10; i++) tcp.socket.write(`GET /k${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + 5_000;
    while ((tcp.received().match(/HTTP\/1\.1 200/g) ?? []).length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((tcp.received().match(/HTTP\/1\.1 200/g) ?? []).length).toBe(10);
    expect(tcp.socket.destroyed).toBe(false);
    tcp.socket.destroy();
    const seen = echo.requests.slice(before);
    expect(seen.map((r) => r.url)).toEqual(range(0, 9).map((i) => `/k${i}`));
    // Sequential requests through a keep-alive agent: one upstream connection carries them all.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const from = echo.requests.length;
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        request(`${balancer.url}/a${i}`, { agent }, (res) => {
          res.resume();
          res.once('end', resolve);
        })
          .once('error', reject)
          .end();
      });
    }
    agent.destroy();
    const upstreamConnections = new Set(echo.requests.slice(from).map((r) => r.connection));
    expect(upstreamConnections.size, 'upstream connections used for 20 sequential requests').toBeLessThanOrEqual(2);
  });

  it('a client that gives up before the backend answers does not get the backend ejected', async () => {
    const before = echo.requests.length;
    const outcome = await fetch(`${balancer.url}/slow`, { signal: AbortSignal.timeout(200) }).then(
      (r) => `HTTP ${r.status}`,
      (error: Error) => error.name,
    );
    expect(outcome).toBe('TimeoutError');
    expect(echo.requests.slice(before).map((r) => r.url)).toEqual(['/slow']);
    // The balancer has handled the client going away once its count is back to 0.
    await balancer.waitForBackends((list) => list[0]?.open === 0, 5_000, 'the aborted request no longer counted');
    expect((await balancer.backends())[0]).toMatchObject({ ready: true, open: 0 });
    expect(await balancer.metrics()).not.toMatch(/^balancer_ejections_total\{/m);
    expect((await fetch(`${balancer.url}/after-abort`)).status).toBe(200);
  });

  it('a text/event-stream flows as it is produced (not buffered until the end)', async () => {
    const started = Date.now();
    const response = await fetch(`${balancer.url}/sse`, { headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const arrivals: number[] = [];
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      const events = (text.match(/event: tick/g) ?? []).length;
      while (arrivals.length < events) arrivals.push(Date.now() - started);
    }
    expect(arrivals).toHaveLength(5);
    // The backend writes one every 200 ms: the first arrives long before the last was written.
    expect(arrivals[0]!).toBeLessThan(600);
    expect(arrivals[4]! - arrivals[0]!).toBeGreaterThanOrEqual(600);
  });
});

describe('through to a real node', () => {
  let node: ServerHandle;
  let balancer: BalancerHandle;

  beforeAll(async () => {
    node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    balancer = await startBalancer({ env: { BACKENDS: node.url } });
    await balancer.waitForBackends((list) => list[0]?.ready === true, 10_000, 'node ready');
  });

  it('queries, mutations, GraphiQL, SSE and graphql-ws subscriptions all work through the balancer', async () => {
    const alice = await createUser(balancer.url, 'alice');
    const room = await createRoom(balancer.url, alice.token, 'via the balancer');
    for (let i = 0; i < 3; i++) await sendMessage(balancer.url, alice.token, room.id, `before ${i}`);

    const graphiql = await fetch(`${balancer.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(graphiql.headers.get('content-type')).toMatch(/text\/html/);
    expect(await graphiql.text()).toMatch(/graphiql/i);

    // SSE (POST, Accept: text/event-stream): catch-up from seq 2, then one live message.
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), 20_000);
    const seqs: number[] = [];
    try {
      const response = await fetch(`${balancer.url}/graphql`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({ query: ROOM_EVENTS_SUBSCRIPTION, variables: { roomId: room.id, afterSeq: 2 } }),
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let liveSent = false;
      while (seqs.at(-1) !== 6) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the event stream ended after seqs ${seqs.join(',')}`);
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          assertNoStackTrace(block, 'SSE event');
          const data = block.split('\n').find((line) => line.startsWith('data:'));
          if (!data || !/^event: next$/m.test(block)) continue;
          seqs.push((JSON.parse(data.slice(5)) as { data: { roomEvents: RoomEventInfo } }).data.roomEvents.seq);
        }
        if (seqs.at(-1) === 5 && !liveSent) {
          liveSent = true;
          await sendMessage(balancer.url, alice.token, room.id, 'live over SSE');
        }
      }
      await reader.cancel().catch(() => {});
    } finally {
      clearTimeout(timeout);
      abort.abort();
    }
    expect(seqs).toEqual([3, 4, 5, 6]);

    // graphql-ws, the library client, through the balancer.
    const client = wsClient(balancer.wsUrl, alice.token);
    try {
      const events = collectRoomEvents(client, room.id, 0);
      await events.waitFor((items) => items.at(-1)?.seq === 6, 10_000, 'catch-up over graphql-ws');
      await sendMessage(balancer.url, alice.token, room.id, 'live over ws');
      await events.waitFor((items) => items.at(-1)?.seq === 7, 10_000, 'live over graphql-ws');
      expect(events.items.map((e) => e.seq)).toEqual(range(1, 7));
      events.unsubscribe();
    } finally {
      await client.dispose();
    }
  });

  it('/metrics: open connections per backend, upgrades, HTTP requests, failures and ejections', async () => {
    const spare = await startFakeBackend();
    const metricsBalancer = await startBalancer({ env: { BACKENDS: `${node.url},${spare.url}`, HEALTH_INTERVAL_MS: '60000' } });
    try {
      await metricsBalancer.waitForBackends((list) => list.length === 2 && list.every((b) => b.ready), 10_000, 'both ready');
      const sockets = [];
      for (let i = 0; i < 6; i++) sockets.push(await mustOpen(metricsBalancer.wsUrl, { init: false }));
      for (let i = 0; i < 4; i++) await (await fetch(`${metricsBalancer.url}/graphql?query=%7B__typename%7D`)).text();

      let text = await metricsBalancer.metrics();
      expect(text).toMatch(/# TYPE balancer_connections gauge/);
      expect(text).toContain(`balancer_connections{backend="${node.url}"} 3`);
      expect(text).toContain(`balancer_connections{backend="${spare.url}"} 3`);
      expect(text).toMatch(/^balancer_upgrades_total 6$/m);
      expect(text).toMatch(/^balancer_http_requests_total 4$/m);
      expect(text).toMatch(/# TYPE balancer_failures_total counter/);
      expect(text).toMatch(/# TYPE balancer_ejections_total counter/);
      expect(text).toMatch(/^process_cpu_seconds_total /m);

      // The spare goes away between health checks: its sockets close, the next connection sent to
      // it fails and ejects it.
      await spare.close();
      const list = await metricsBalancer.waitForBackends((l) => backendOf(l, spare)?.open === 0, 5_000, 'spare sockets closed');
      expect(backendOf(list, node)!.open).toBe(3);
      // Least connections: the first goes to the (empty) spare, fails and ejects it, and is sent to
      // the node instead (it never reached the spare); the next one goes to the node directly.
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) statuses.push((await fetch(`${metricsBalancer.url}/graphql?query=%7B__typename%7D`)).status);
      expect(statuses).toEqual([200, 200]);
      text = await metricsBalancer.metrics();
      expect(text).toMatch(/^balancer_retries_total\{reason="unreached"\} 1$/m);
      expect(text).toContain(`balancer_ejections_total{backend="${spare.url}"} 1`);
      expect(text).toMatch(/^balancer_failures_total\{reason="http_upstream"\} 1$/m);
      expect(text).toContain(`balancer_connections{backend="${spare.url}"} 0`);
      expect(text).toContain(`balancer_connections{backend="${node.url}"} 3`);
      for (const ws of sockets) ws.terminate();
    } finally {
      await spare.close().catch(() => {});
    }
  });
});
