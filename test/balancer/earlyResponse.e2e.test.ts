/**
 * Early responses (issue 12, finding 4): a node answers a POST whose Content-Length is over
 * MAX_REQUEST_BYTES with 413 before it reads the body. Through the balancer every such request
 * must get that answer, however the client sends its body, and the upload must end cleanly: the
 * node stays in rotation and the next request is served.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pool } from '../support/gql.js';
import { killAllNodes, startNode, type NodeHandle } from '../support/nodeProcess.js';
import { killAllBalancers, startBalancer, type BalancerHandle } from '../support/balancerProcess.js';

let node: NodeHandle;
let balancer: BalancerHandle;

beforeAll(async () => {
  node = await startNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
  balancer = await startBalancer({ env: { BACKENDS: node.url, WORKERS: '2' } });
  await balancer.waitForBackends((list) => list[0]?.ready === true, 10_000, 'node ready');
});
afterAll(killAllBalancers);
afterAll(killAllNodes);

/**
 * POSTs `bytes` of body over a raw TCP socket, in 64 KiB chunks as fast as the socket takes them,
 * and reads the answer as curl does: a write that fails because the server already answered and
 * closed does not hide the answer. Resolves with the status, or with what went wrong (never
 * rejects); gives up after `timeoutMs`.
 */
function postLarge(url: string, bytes: number, timeoutMs = 8_000): Promise<{ status: number | null; outcome: string; ms: number }> {
  const started = Date.now();
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    let settled = false;
    const settle = (outcome?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
      resolve({ status: status ? Number(status[1]) : null, outcome: outcome ?? received.split('\r\n\r\n')[1]?.slice(0, 120) ?? '', ms: Date.now() - started });
    };
    const timer = setTimeout(() => settle(`no response within ${timeoutMs} ms (got ${JSON.stringify(received.slice(0, 60))})`), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      // Done once the whole answer is in (it carries a Content-Length).
      const end = received.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(received.slice(0, end));
      if (end >= 0 && length && received.length >= end + 4 + Number(length[1])) settle();
    });
    socket.on('error', () => {}); // a write after the server closed: the answer may be in already
    socket.once('close', () => settle(received ? undefined : 'closed without an answer'));
    socket.once('connect', () => {
      socket.write(`POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < bytes && socket.writable) {
          const size = Math.min(chunk.length, bytes - sent);
          sent += size;
          if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) return void socket.once('drain', pump);
        }
      };
      pump();
    });
  });
}

it('a 1 MiB POST answered 413 by the node before it reads the body: 50 of 50 answered through the balancer', { timeout: 60_000 }, async () => {
  const direct = await postLarge(node.url, 1024 * 1024);
  expect(direct.status, `direct to the node: ${direct.outcome}`).toBe(413);

  const results = await pool(50, 5, () => postLarge(balancer.url, 1024 * 1024));
  const unanswered = results.filter((r) => r.status !== 413);
  console.log(
    `early responses: ${results.length - unanswered.length} of ${results.length} answered 413 through the balancer; slowest ${Math.max(...results.map((r) => r.ms))} ms`,
  );
  expect(unanswered, 'every oversized POST answered 413').toEqual([]);
  expect(results.every((r) => /PAYLOAD_TOO_LARGE/.test(r.outcome))).toBe(true);

  // The upload ended cleanly: the node was not taken for a failing one, and serves the next request.
  expect((await balancer.backends())[0]).toMatchObject({ ready: true, open: 0 });
  expect(await balancer.metrics()).not.toMatch(/^balancer_ejections_total\{/m);
  const after = await fetch(`${balancer.url}/graphql?query=%7B__typename%7D`);
  expect(after.status).toBe(200);
});
