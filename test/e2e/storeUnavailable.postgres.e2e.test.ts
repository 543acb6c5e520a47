/**
 * The event store stops answering (PostgreSQL restarted, the network between them cut): a send
 * gets UNAVAILABLE with retryAfterMs, the answer the API gives for "try again", not an internal
 * error; the node stays up; once the store is back, the same send (same clientMessageId) is
 * stored exactly once. The connection runs through a TCP relay this test can cut and restore.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRoom, createUser, errorCodes, http, readLog, sendMessage } from '../support/gql.js';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { POSTGRES_TEST_URL, assertPostgresReachable, dropSchema, freshSchemaName } from '../support/postgres.js';

const schema = freshSchemaName('gone');
const target = new URL(POSTGRES_TEST_URL);

/** A relay to the test server on a port of its own: `cut` closes it and every connection through it. */
function relay() {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  return {
    open,
    get url() {
      const url = new URL(POSTGRES_TEST_URL);
      url.host = `127.0.0.1:${port}`;
      url.searchParams.set('schema', schema);
      return url.toString();
    },
    async cut() {
      await new Promise<void>((resolve) => {
        server?.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

const SEND = 'mutation($roomId: ID!, $body: String!, $clientMessageId: ID!) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) { id seq } }';
const link = relay();

beforeAll(async () => {
  await assertPostgresReachable();
  await link.open();
});
afterAll(async () => {
  await stopAllInProcessNodes();
  await link.cut();
  await dropSchema(schema);
});

it('a send while PostgreSQL does not answer gets UNAVAILABLE with retryAfterMs; resent once it is back, it is stored once', async () => {
  const node = await startInProcessNode({ env: { EVENT_STORE: link.url, RATE_LIMIT_MESSAGES: '0' } });
  const ada = await createUser(node.url, 'ada');
  const room = await createRoom(node.url, ada.token, 'lobby');
  await sendMessage(node.url, ada.token, room.id, 'before', 'c-before');

  await link.cut();
  const refused = await http(node.url, SEND, { roomId: room.id, body: 'during', clientMessageId: 'c-during' }, ada.token);
  expect(errorCodes(refused)).toEqual(['UNAVAILABLE']);
  expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
  expect(JSON.stringify(refused.errors)).not.toMatch(/ECONNREFUSED|stack|at /);
  expect((await fetch(`${node.url}/healthz`)).status).toBe(200);

  await link.open();
  let stored: { seq: number } | undefined;
  for (let attempt = 0; attempt < 50 && !stored; attempt++) {
    const answer = await http<{ sendMessage: { seq: number } }>(node.url, SEND, { roomId: room.id, body: 'during', clientMessageId: 'c-during' }, ada.token);
    if (answer.data?.sendMessage) stored = answer.data.sendMessage;
    else {
      expect(errorCodes(answer)).toEqual(['UNAVAILABLE']);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  expect(stored).toBeDefined();
  const bodies = (await readLog(node.url, ada.token, room.id)).flatMap((event) => (event.__typename === 'MessagePosted' ? [event.message!.body] : []));
  expect(bodies).toEqual(['before', 'during']);
}, 60_000);
