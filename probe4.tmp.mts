import fc from 'fast-check';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { buildSchema } from './schema/index.js';
import { createRoom, createUser, sendMessage } from './test/support/gql.js';
import { startNode, killAllNodes } from './test/support/nodeProcess.js';
import { metricValue } from './test/support/signals.js';
import { anyOperation, wsFrame } from './test/abuse/fuzzArbitraries.js';
const schema = buildSchema();
const node = await startNode({ timeoutMs: 60_000 });
const rss = () => Number(/VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${node.process.pid}/status`, 'utf8'))![1]) / 1024;
const user = await createUser(node.url, 'f');
const roomId = (await createRoom(node.url, user.token, 'r')).id;
const m = await sendMessage(node.url, user.token, roomId, 'hi');
const known = { roomIds: [roomId], messageIds: [m.id] };
console.log('start', rss().toFixed(0));
const mode = process.env.MODE ?? 'both';
for (let round = 0; round < 9; round++) {
  if (mode !== 'ws') {
    const ops = fc.sample(anyOperation(schema, known, ['query', 'mutation']), { numRuns: 800, seed: round });
    for (const op of ops) {
      await fetch(`${node.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, body: JSON.stringify(op) }).then((r) => r.text());
    }
  }
  if (mode !== 'http') {
    const sessions = fc.sample(fc.array(wsFrame(schema, known, user.token), { minLength: 1, maxLength: 12 }), { numRuns: 300, seed: round });
    for (const frames of sessions) {
      const ws = new WebSocket(node.wsUrl, 'graphql-transport-ws');
      ws.on('error', () => {});
      await new Promise((r) => { ws.once('open', r); ws.once('close', r); });
      for (const f of frames) { if (ws.readyState === 1) ws.send(typeof f === 'string' ? f : JSON.stringify(f)); }
      await new Promise((r) => setTimeout(r, 20));
      ws.terminate();
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
  console.log('round', round, 'rss', rss().toFixed(0), 'subs', await metricValue(node.url, 'chat_subscriptions'), 'ws', await metricValue(node.url, 'chat_ws_connections'));
}
await killAllNodes();
