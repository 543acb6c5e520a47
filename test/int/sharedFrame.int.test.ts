/**
 * sendShared (src/server/sharedFrame.ts) over real ws sockets on 127.0.0.1: every subscriber gets
 * the same valid frame, written from the very same buffers; messages keep their order with the
 * socket's other sends; and a socket with permessage-deflate gets the message through ws itself.
 */
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import { frameHeader, sendShared, wholeFrame } from '../../src/server/sharedFrame.js';

interface Pair {
  server: WebSocket;
  client: WebSocket;
  received: Buffer[];
  /** Every buffer written to the server side's net.Socket, in order. */
  written: Buffer[];
}

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await Promise.all(servers.splice(0).map((wss) => new Promise((resolve) => wss.close(resolve))));
});

async function pairs(count: number, perMessageDeflate: false | PerMessageDeflateOptions = false): Promise<Pair[]> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;
  const accepted: WebSocket[] = [];
  wss.on('connection', (socket) => accepted.push(socket));
  const made: Array<Omit<Pair, 'server' | 'written'>> = [];
  for (let i = 0; i < count; i++) {
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: perMessageDeflate ? {} : false });
    clients.push(client);
    const received: Buffer[] = [];
    client.on('message', (data: Buffer) => received.push(data));
    await new Promise((resolve) => client.once('open', resolve));
    made.push({ client, received });
  }
  await expect.poll(() => accepted.length).toBe(count);
  return made.map((pair, i) => {
    const server = accepted[i]!;
    const raw = (server as unknown as { _socket: Socket })._socket;
    const written: Buffer[] = [];
    const write = raw.write.bind(raw) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    raw.write = ((chunk: Buffer, ...rest: unknown[]) => {
      written.push(chunk);
      return write(chunk, ...rest);
    }) as Socket['write'];
    return { ...pair, server, written };
  });
}

const message = (id: string, payload: string) => ({ head: Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`), body: Buffer.from(`${payload}}`) });

describe('sendShared', () => {
  it('every subscriber receives the same valid frame, written from the same buffers', async () => {
    const all = await pairs(5);
    const shared = message('1', '{"data":{"roomEvents":{"seq":7,"body":"héllo ✓"}}}');
    for (const { server } of all) sendShared(server, shared);
    const expected = Buffer.concat([shared.head, shared.body]);
    for (const { received } of all) await expect.poll(() => received.length).toBe(1);
    for (const { received } of all) expect(received[0]!.equals(expected)).toBe(true);
    expect(JSON.parse(String(all[0]!.received[0]))).toEqual({ id: '1', type: 'next', payload: { data: { roomEvents: { seq: 7, body: 'héllo ✓' } } } });
    // Not a copy per socket: each socket was handed the very same head and body buffers.
    for (const { written } of all) {
      expect(written).toHaveLength(3);
      expect(written[1]).toBe(shared.head);
      expect(written[2]).toBe(shared.body);
    }
  });

  it('a whole frame, when given, is written as the one same buffer to every socket', async () => {
    const all = await pairs(3);
    const shared = message('1', '{"data":{"roomEvents":{"seq":8}}}');
    const frame = wholeFrame(shared);
    for (const { server } of all) sendShared(server, { ...shared, frame });
    for (const { received } of all) await expect.poll(() => received.length).toBe(1);
    for (const { received, written } of all) {
      expect(received[0]!.equals(Buffer.concat([shared.head, shared.body]))).toBe(true);
      expect(written).toEqual([frame]);
      expect(written[0]).toBe(frame);
    }
  });

  it('subscriptions with different ids share the body and differ only in their head', async () => {
    const [a, b] = await pairs(2);
    const body = Buffer.from('{"data":{"roomEvents":{"seq":1}}}}');
    sendShared(a!.server, { head: message('a-1', '').head, body });
    sendShared(b!.server, { head: message('b-22', '').head, body });
    await expect.poll(() => a!.received.length + b!.received.length).toBe(2);
    expect(JSON.parse(String(a!.received[0])).id).toBe('a-1');
    expect(JSON.parse(String(b!.received[0])).id).toBe('b-22');
    expect(a!.written[2]).toBe(b!.written[2]);
  });

  it('keeps its place among the socket’s other sends', async () => {
    const [pair] = await pairs(1);
    const { server, received } = pair!;
    server.send('{"type":"first"}');
    sendShared(server, message('s', '{"n":2}'));
    server.send('{"type":"third"}');
    sendShared(server, message('s', '{"n":4}'));
    await expect.poll(() => received.length).toBe(4);
    expect(received.map((data) => JSON.parse(String(data)).type)).toEqual(['first', 'next', 'third', 'next']);
  });

  it('frames payloads of every length class (7-bit, 16-bit, 64-bit) that the client accepts', async () => {
    const [pair] = await pairs(1);
    const sizes = [0, 80, 125 - 40, 300, 65_535, 70_000, 200_000];
    for (const size of sizes) sendShared(pair!.server, message('x', JSON.stringify('y'.repeat(size))));
    await expect.poll(() => pair!.received.length, { timeout: 5_000 }).toBe(sizes.length);
    expect(pair!.received.map((data) => (JSON.parse(String(data)).payload as string).length)).toEqual(sizes);
    expect(frameHeader(125)).toEqual(Buffer.from([0x81, 125]));
    expect(frameHeader(126)).toEqual(Buffer.from([0x81, 126, 0, 126]));
    expect(frameHeader(65_536)).toEqual(Buffer.from([0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
  });

  it('a socket with permessage-deflate gets the message compressed by ws, in order', async () => {
    const [pair] = await pairs(1, { threshold: 0 });
    const { server, received, written } = pair!;
    expect(Object.keys((server as unknown as { _extensions: object })._extensions)).toContain('permessage-deflate');
    const shared = message('z', JSON.stringify({ text: 'compress me '.repeat(50) }));
    server.send('{"type":"before"}');
    sendShared(server, shared);
    server.send('{"type":"after"}');
    await expect.poll(() => received.length).toBe(3);
    expect(received[1]!.equals(Buffer.concat([shared.head, shared.body]))).toBe(true);
    expect(received.map((data) => JSON.parse(String(data)).type)).toEqual(['before', 'next', 'after']);
    // ws framed (and compressed) it: the uncompressed body never went to the socket as is.
    expect(written).not.toContain(shared.body);
    expect(written.reduce((sum, chunk) => sum + chunk.length, 0)).toBeLessThan(shared.body.length);
  });

  it('goes through ws when the socket is closing (ws drops it as it does any late send)', async () => {
    const [pair] = await pairs(1);
    pair!.server.close(1000, 'bye');
    expect(() => sendShared(pair!.server, message('q', '{}'))).not.toThrow();
    expect(pair!.written.some((chunk) => chunk.length > 20)).toBe(false);
  });
});
