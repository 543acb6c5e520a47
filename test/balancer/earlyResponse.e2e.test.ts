/**
 * Early responses (issue 12, finding 4): a node answers a POST whose Content-Length is over
 * MAX_REQUEST_BYTES with 413 before it reads the body. Through the balancer every such request
 * must get that answer — with clients that keep their connections alive and reuse them, as fetch
 * and Node's http agent do — and the upload must end cleanly: the node stays in rotation and the
 * next request is served.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pool } from '../support/gql.js';
import { killAllNodes, startNode, type NodeHandle } from '../support/nodeProcess.js';
import { killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';

let node: NodeHandle;
let balancer: BalancerHandle;
const MiB = Buffer.alloc(1024 * 1024, 0x20);

beforeAll(async () => {
  node = await startNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  balancer = await startBalancer({ env: { BACKENDS: node.url, WORKERS: '2' } });
  await balancer.waitForBackends((list) => list[0]?.ready === true, 10_000, 'node ready');
});
afterAll(killAllBalancers);
afterAll(killAllNodes);

type Outcome = { status: number | null; text: string; ms: number };

/** fetch (undici, connections kept alive): resolves with the status, or what went wrong; gives up after 8 s. */
async function postWithFetch(url: string): Promise<Outcome> {
  const started = Date.now();
  try {
    const response = await fetch(`${url}/graphql`, { method: 'POST', body: MiB, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(8_000) });
    return { status: response.status, text: await response.text(), ms: Date.now() - started };
  } catch (error) {
    return { status: null, text: `${(error as Error).name} ${String((error as { cause?: { code?: string } }).cause?.code ?? '')}`, ms: Date.now() - started };
  }
}

/** Node's http client over a keep-alive agent, likewise. */
function postWithHttp(url: string, agent: Agent): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request(`${url}/graphql`, { agent, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': MiB.length }, timeout: 8_000 });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? null, text, ms: Date.now() - started }));
    });
    req.once('timeout', () => req.destroy(new Error('no answer within 8 s')));
    req.once('error', (error) => resolve({ status: null, text: (error as NodeJS.ErrnoException).code ?? error.message, ms: Date.now() - started }));
    req.end(MiB);
  });
}

const summary = (results: Outcome[]) => `${results.filter((r) => r.status === 413).length} of ${results.length} answered 413; slowest ${Math.max(...results.map((r) => r.ms))} ms`;

it('a 1 MiB POST answered 413 by the node before it reads the body: 50 of 50 answered through the balancer', { timeout: 60_000 }, async () => {
  const direct = await postWithFetch(node.url);
  expect(direct.status, `direct to the node: ${direct.text}`).toBe(413);

  const viaFetch = await pool(50, 5, () => postWithFetch(balancer.url));
  const agent = new Agent({ keepAlive: true, maxSockets: 5 });
  const viaHttp = await pool(20, 5, () => postWithHttp(balancer.url, agent));
  agent.destroy();
  console.log(`early responses through the balancer: fetch ${summary(viaFetch)}; http ${summary(viaHttp)}`);
  expect(viaFetch.filter((r) => r.status !== 413), 'every oversized POST (fetch) answered 413').toEqual([]);
  expect(viaHttp.filter((r) => r.status !== 413), 'every oversized POST (http) answered 413').toEqual([]);
  expect([...viaFetch, ...viaHttp].every((r) => r.text.includes('PAYLOAD_TOO_LARGE'))).toBe(true);

  // The upload ended cleanly: the node was not taken for a failing one, and serves the next request.
  expect((await balancer.backends())[0]).toMatchObject({ ready: true, open: 0 });
  expect(await balancer.metrics()).not.toMatch(/^balancer_ejections_total\{/m);
  const after = await fetch(`${balancer.url}/graphql?query=%7B__typename%7D`);
  expect(after.status).toBe(200);
});
