/**
 * The baseline: a bare `ws` broadcast server with the least work a chat server can do. It fakes
 * just enough of the public API (createSession/createRoom/joinRoom over HTTP; sendMessage and the
 * roomEvents subscription over the graphql-ws protocol) that the SAME load generator drives it.
 * On a publish it serializes the event once, builds one frame per distinct subscription id (the
 * load client uses one id for all, so in practice one frame) and writes that buffer to every socket.
 * Nothing is stored, checked or authorized.
 *
 * Run: PORT=0 HOST=127.0.0.1 [REDIS_URL=redis://…] node --import tsx test/bench/bareWsServer.ts
 */
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface Sub {
  ws: WebSocket;
  id: string;
}
interface Room {
  seq: number;
  subs: Set<Sub>;
}
interface GqlRequest {
  query?: string;
  variables?: Record<string, unknown>;
}

const rooms = new Map<string, Room>();
let nextId = 1;

function room(id: string): Room {
  let r = rooms.get(id);
  if (!r) rooms.set(id, (r = { seq: 0, subs: new Set() }));
  return r;
}

function answerHttp(req: GqlRequest): unknown {
  const q = req.query ?? '';
  const v = req.variables ?? {};
  if (q.includes('createSession')) {
    const n = nextId++;
    return { data: { createSession: { token: `bare-${n}`, user: { id: `u${n}` }, expiresAt: new Date(Date.now() + 864e5).toISOString() } } };
  }
  if (q.includes('createRoom')) {
    const id = `r${nextId++}`;
    room(id).seq = 1; // the creator's MemberJoined, as the real server would have
    return { data: { createRoom: { id } } };
  }
  if (q.includes('joinRoom')) {
    room(String(v.roomId)).seq++;
    return { data: { joinRoom: { id: String(v.roomId) } } };
  }
  return { errors: [{ message: 'the bare baseline answers only createSession, createRoom and joinRoom over HTTP' }] };
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  if (req.method !== 'POST' || !req.url?.startsWith('/graphql')) return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = answerHttp(JSON.parse(Buffer.concat(chunks).toString()) as GqlRequest);
    } catch {
      body = { errors: [{ message: 'bad request' }] };
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
});

function publish(roomId: string, body: string, from: WebSocket, opId: string): void {
  const r = room(roomId);
  const seq = ++r.seq;
  const messageId = `m${nextId++}`;
  const createdAt = new Date().toISOString();
  const ack = (): void => {
    from.send(JSON.stringify({ id: opId, type: 'next', payload: { data: { sendMessage: { id: messageId, seq } } } }));
    from.send(JSON.stringify({ id: opId, type: 'complete' }));
  };
  const payload = JSON.stringify({
    data: { roomEvents: { seq, roomId, at: createdAt, message: { id: messageId, body, createdAt } } },
  });
  if (!redisPub) {
    ack();
    return broadcast(roomId, payload);
  }
  // Two-node mode: every node (this one included) broadcasts what comes back from Redis.
  redisPub.publish(`${CHANNEL}${roomId}`, payload).then(ack, (e: unknown) => {
    from.send(JSON.stringify({ id: opId, type: 'error', payload: [{ message: `redis publish failed: ${String(e)}` }] }));
  });
}

function broadcast(roomId: string, payload: string): void {
  const frames = new Map<string, Buffer>();
  for (const sub of room(roomId).subs) {
    let frame = frames.get(sub.id);
    if (!frame) frames.set(sub.id, (frame = Buffer.from(`{"id":${JSON.stringify(sub.id)},"type":"next","payload":${payload}}`)));
    sub.ws.send(frame, { binary: false });
  }
}

/**
 * With REDIS_URL set, publishes go to a Redis channel per room and each node broadcasts what it
 * receives to its own sockets (frame still built once per node). Seqs are counted by the node
 * that took the send, so the load must send through one node only.
 */
const CHANNEL = 'bare:room:';
let redisPub: { publish(channel: string, message: string): Promise<unknown> } | undefined;
if (process.env.REDIS_URL) {
  const { Redis } = await import('ioredis');
  const pub = new Redis(process.env.REDIS_URL);
  const sub = new Redis(process.env.REDIS_URL);
  for (const c of [pub, sub]) c.on('error', (e: Error) => console.error(JSON.stringify({ level: 50, msg: `redis error: ${e.message}` })));
  sub.on('pmessage', (_pattern: string, channel: string, message: string) => broadcast(channel.slice(CHANNEL.length), message));
  await sub.psubscribe(`${CHANNEL}*`);
  redisPub = pub;
}

const wss = new WebSocketServer({
  server,
  path: '/graphql',
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
});

wss.on('connection', (ws) => {
  const subs = new Map<string, { roomId: string; sub: Sub }>();
  ws.on('message', (data: Buffer) => {
    let msg: { id?: string; type?: string; payload?: GqlRequest };
    try {
      msg = JSON.parse(data.toString()) as typeof msg;
    } catch {
      return void ws.close(4400, 'Invalid message received');
    }
    if (msg.type === 'connection_init') return void ws.send('{"type":"connection_ack"}');
    if (msg.type === 'ping') return void ws.send('{"type":"pong"}');
    if (msg.type === 'complete' && msg.id) {
      const s = subs.get(msg.id);
      if (s) room(s.roomId).subs.delete(s.sub);
      subs.delete(msg.id);
      return;
    }
    if (msg.type !== 'subscribe' || !msg.id) return;
    const q = msg.payload?.query ?? '';
    const v = msg.payload?.variables ?? {};
    if (q.includes('sendMessage')) return publish(String(v.roomId), String(v.body), ws, msg.id);
    if (q.includes('roomEvents')) {
      const sub = { ws, id: msg.id };
      const roomId = String(v.roomId);
      room(roomId).subs.add(sub);
      subs.set(msg.id, { roomId, sub });
      return;
    }
    ws.send(JSON.stringify({ id: msg.id, type: 'error', payload: [{ message: 'not in the bare baseline' }] }));
  });
  ws.on('close', () => {
    for (const { roomId, sub } of subs.values()) room(roomId).subs.delete(sub);
    subs.clear();
  });
  ws.on('error', () => undefined);
});

const host = process.env.HOST ?? '127.0.0.1';
server.listen(Number(process.env.PORT ?? 0), host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ level: 30, msg: `listening on http://${host}:${port}` }));
});

// The orchestrator holds our stdin; when it goes away, so do we.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
