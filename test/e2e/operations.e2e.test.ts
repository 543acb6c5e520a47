/**
 * Running the node: health, readiness and metrics endpoints; graceful SIGTERM; a bad
 * configuration refused at start with a message that names the variable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { assertNoStackTrace, createRoom, createUser, sendMessage } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { killAllNodes, runNodeToExit, startNode } from '../support/nodeProcess.js';

afterAll(killAllNodes);
afterAll(stopAllInProcessNodes);

describe('operational endpoints', () => {
  it('/healthz and /readyz answer 200, /metrics is Prometheus text with chat_events_appended_total', async () => {
    const node = await startInProcessNode({ env: { RATE_LIMIT_MESSAGES: '0' } });
    try {
      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${node.url}/readyz`);
      expect(ready.status).toBe(200);

      const alice = await createUser(node.url, 'alice');
      const room = await createRoom(node.url, alice.token, 'metrics');
      await sendMessage(node.url, alice.token, room.id, 'counted');

      const metrics = await fetch(`${node.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await metrics.text();
      assertNoStackTrace(text);
      expect(text).toMatch(/^# HELP chat_events_appended_total /m);
      expect(text).toMatch(/^# TYPE chat_events_appended_total counter$/m);
      // RoomCreated + MemberJoined + MessagePosted were appended: the counter says so.
      const samples = [...text.matchAll(/^chat_events_appended_total(\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)];
      const total = samples.reduce((sum, m) => sum + Number(m[2]), 0);
      expect(total).toBeGreaterThanOrEqual(3);

      const unknown = await fetch(`${node.url}/no-such-path`);
      expect(unknown.status).toBe(404);
      assertNoStackTrace(await unknown.text());
    } finally {
      expect.soft(await node.stop(), 'exit code after SIGTERM').toBe(0);
    }
  });

  // Real processes from here on: a signal, the log lines it prints, and its exit status are under test.
  it('on SIGTERM it stops being ready, drains and exits 0', async () => {
    const node = await startNode({ env: { SHUTDOWN_GRACE_MS: '1500' } });
    const probes: Array<number | string> = [];
    node.process.kill('SIGTERM');
    await node.waitForLog(/"msg":"draining"/, 5_000);
    // While draining, readiness is never 200 (503, or no longer accepting connections at all).
    for (let i = 0; i < 5; i++) {
      try {
        probes.push((await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2_000) })).status);
      } catch (error) {
        probes.push((error as Error).name);
      }
      // Under test: readiness sampled across the grace period, not a wait for something.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(probes).not.toContain(200);
    expect(await node.stop()).toBe(0);
    expect(node.logs.some((line) => line.includes('"msg":"stopped"'))).toBe(true);
  });
});

describe('configuration', () => {
  it('PORT=abc makes the process exit 1 with a message naming PORT', async () => {
    const result = await runNodeToExit({ env: { PORT: 'abc' }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    const output = result.logs.join('\n');
    expect(output).toMatch(/\bPORT\b/);
    expect(output).not.toMatch(/listening on/);
    assertNoStackTrace(output, 'startup error');
  });

  it('an out-of-range value is refused the same way', async () => {
    const result = await runNodeToExit({ env: { PORT: '70000' }, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.logs.join('\n')).toMatch(/\bPORT\b/);
  });
});
