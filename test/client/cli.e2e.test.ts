/**
 * The terminal client (`npm run chat`, client/cli.ts) against a real node: tail follows a room,
 * send posts (as a session from --token, $ROOMLOG_TOKEN or --name), the node from --url or
 * $ROOMLOG_URL, `join` is the room live with a prompt (under a pseudo-terminal from util-linux
 * `script`), edits and deletes show the message's text, and every command has --help.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessNode, stopAllInProcessNodes } from '../support/inProcessNode.js';
import { repoRoot, type ServerHandle } from '../support/nodeProcess.js';

let node: ServerHandle;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  node = await startInProcessNode();
});
afterAll(stopAllInProcessNodes);
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its exit; `env` replaces ROOMLOG_TOKEN handling (none is inherited). */
function chat(args: string[], env: Record<string, string> = {}, command: string[] = [process.execPath, '--import', 'tsx', 'client/cli.ts']): Promise<Run> {
  return chatLive(args, env, command).exit;
}

/** The same, with what it printed so far readable while it runs. */
function chatLive(args: string[], env: Record<string, string> = {}, command: string[] = [process.execPath, '--import', 'tsx', 'client/cli.ts']) {
  const { ROOMLOG_TOKEN: _ignored, ROOMLOG_URL: _alsoIgnored, ...inherited } = process.env;
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: repoRoot, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exit = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, ...output });
    }),
  );
  return { output, exit };
}

describe('chat (the terminal client)', () => {
  it('tail follows a room while send posts to it, with a token from the flag, the environment or a new session', async () => {
    const session = await chat(['session', '--name', 'ada', '--url', node.url]);
    expect(session.code).toBe(0);
    const token = session.stdout.trim();
    expect(token.split('.')).toHaveLength(3);

    const created = await fetch(`${node.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation { createRoom(name: "terminal") { id } }' }),
    });
    const roomId = ((await created.json()) as { data: { createRoom: { id: string } } }).data.createRoom.id;

    const tail = chat(['tail', '--room', roomId, '--after', '0', '--count', '5', '--json', '--url', node.url], { ROOMLOG_TOKEN: token });
    const fromFlag = await chat(['send', '--room', roomId, '--url', node.url, '--token', token, 'hello', 'from', 'the', 'terminal']);
    expect(fromFlag.code).toBe(0);
    expect(fromFlag.stdout).toMatch(/^sent #3 \(/);
    const newSession = await chat(['send', '--room', roomId, '--url', node.url, '--name', 'bob', 'hi ada']);
    expect(newSession.code).toBe(0);
    expect(newSession.stderr).toContain('new session for bob');

    const tailed = await tail;
    expect(tailed.code).toBe(0);
    const events = tailed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; __typename: string; message?: { body: string } });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => e.__typename)).toEqual(['RoomCreated', 'MemberJoined', 'MessagePosted', 'MemberJoined', 'MessagePosted']);
    expect(events[2]!.message!.body).toBe('hello from the terminal');
    expect(events[4]!.message!.body).toBe('hi ada');

    const text = await chat(['tail', '--room', roomId, '--after', '2', '--count', '1', '--url', node.url], { ROOMLOG_TOKEN: token });
    expect(text.stdout).toMatch(/^#3 \d\d:\d\d:\d\d ada: hello from the terminal\n$/);
  });

  it('says what is missing without a session, and refuses a bad argument', async () => {
    const none = await chat(['send', '--room', 'r', '--url', node.url, 'text']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('ROOMLOG_TOKEN');
    const bad = await chat(['tail', '--room', 'r', '--after', 'minus one']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('whole number');
  });

  it('has --help on every command, and runs as npm run chat', async () => {
    for (const command of [[], ['tail'], ['send'], ['rooms'], ['session'], ['join']]) {
      const help = await chat([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: chat${command.length ? ` ${command[0]}` : ''}`);
    }
    const viaNpm = await chat(['tail', '--help'], {}, ['npm', 'run', '-s', 'chat', '--']);
    expect(viaNpm.code).toBe(0);
    expect(viaNpm.stdout).toContain('--room <id>');
  });

  it('reads the node from ROOMLOG_URL when --url is absent', async () => {
    const session = await chat(['session', '--name', 'cyd'], { ROOMLOG_URL: node.url });
    expect(session.code, session.stderr).toBe(0);
    const token = session.stdout.trim();
    const roomId = await createRoomAs(token, 'found by ROOMLOG_URL');
    const rooms = await chat(['rooms'], { ROOMLOG_URL: node.url, ROOMLOG_TOKEN: token });
    expect(rooms.code, rooms.stderr).toBe(0);
    expect(rooms.stdout).toContain(`${roomId}  found by ROOMLOG_URL`);
    // --url wins over the environment.
    const wrong = await chat(['rooms', '--url', node.url], { ROOMLOG_URL: 'http://127.0.0.1:1', ROOMLOG_TOKEN: token });
    expect(wrong.stdout).toContain(roomId);
  });

  it('tail shows edits and deletes by the message text, not its id (also of messages from before it started)', async () => {
    const token = (await chat(['session', '--name', 'ada', '--url', node.url])).stdout.trim();
    const roomId = await createRoomAs(token, 'edits');
    const early = await sendAs(token, roomId, 'posted before the tail started');
    // After seq 3 (created, joined, the early message): the tail never saw that message in its feed.
    const tail = chatLive(['tail', '--room', roomId, '--after', '3', '--count', '4', '--url', node.url], { ROOMLOG_TOKEN: token });
    const late = await sendAs(token, roomId, 'see you at 5');
    // The tail reads the room's history before it follows the feed: the edits come after that.
    await eventually(async () => tail.output.stdout.includes('ada: see you at 5'), 15_000, 'the tail to start');
    await gqlAs(token, 'mutation($id: ID!) { editMessage(messageId: $id, body: "see you at 6") { id } }', { id: late });
    await gqlAs(token, 'mutation($id: ID!) { deleteMessage(messageId: $id) { id } }', { id: late });
    await gqlAs(token, 'mutation($id: ID!) { editMessage(messageId: $id, body: "posted earlier, then edited") { id } }', { id: early });
    const lines = (await tail.exit).stdout.trim().split('\n').map((line) => line.replace(/^#\d+ \d\d:\d\d:\d\d /, ''));
    expect(lines).toEqual([
      'ada: see you at 5',
      '* ada edited "see you at 5" → see you at 6',
      '* ada deleted "see you at 6"',
      '* ada edited "posted before the tail started" → posted earlier, then edited',
    ]);
  });

  it('join: the room live with a prompt in a terminal; a line typed is sent and comes back through the live feed', async () => {
    const ada = (await chat(['session', '--name', 'ada', '--url', node.url])).stdout.trim();
    const bob = (await chat(['session', '--name', 'bob', '--url', node.url])).stdout.trim();
    const roomId = await createRoomAs(ada, 'interactive', 'a long password');
    await sendAs(ada, roomId, 'from before');
    await gqlAs(bob, 'mutation($id: ID!) { joinRoom(roomId: $id, password: "a long password") { id } }', { id: roomId });

    // util-linux `script` runs the client on a pseudo-terminal (no native module needed); what we
    // write to its stdin is typed at that terminal.
    const command = `${process.execPath} --import tsx client/cli.ts join ${roomId} --url ${node.url}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', ROOMLOG_TOKEN: ada },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    // The screen as a person reads it: a line that arrives while the prompt shows first clears the
    // prompt's line (\r ESC[K), then the prompt is drawn again below it.
    const plain = () => screen.replaceAll('\r\x1b[K', '\n').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
    const see = (pattern: RegExp, what: string) => eventually(async () => pattern.test(plain()), 15_000, () => `${what}; the screen:\n${plain()}`);

    await see(/— interactive \(private\) · 2 members · type a message/, 'the header');
    await see(/^ada: from before$/m, 'the history');
    await see(/ada> /, 'the prompt');
    child.stdin.write('hello from the prompt\r');
    // The typed text is echoed as `ada> hello…`; the feed's line is `ada: hello…`.
    await see(/^ada: hello from the prompt$/m, 'the sent line, back through the live feed');
    const stored = await gqlAs<{ messages: Array<{ body: string; author: { name: string } }> }>(ada, 'query($id: ID!) { messages(roomId: $id) { body author { name } } }', { id: roomId });
    expect(stored.messages.map((m) => `${m.author.name}: ${m.body}`)).toEqual(['ada: from before', 'ada: hello from the prompt']);

    const bobs = await sendAs(bob, roomId, 'hi ada');
    await see(/^bob: hi ada$/m, "another user's message");
    await gqlAs(bob, 'mutation($id: ID!) { editMessage(messageId: $id, body: "hi ada!") { id } }', { id: bobs });
    await see(/^\* bob edited "hi ada" → hi ada!$/m, 'an edit, by its text');
    child.stdin.write('/quit\r');
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(plain()).not.toMatch(/Error|at .*\.ts:/);
  });
});

async function gqlAs<T = unknown>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

async function createRoomAs(token: string, name: string, password?: string): Promise<string> {
  const data = await gqlAs<{ createRoom: { id: string } }>(token, 'mutation($name: String!, $password: String) { createRoom(name: $name, password: $password) { id } }', { name, password });
  return data.createRoom.id;
}

async function sendAs(token: string, roomId: string, body: string): Promise<string> {
  const data = await gqlAs<{ sendMessage: { id: string } }>(token, 'mutation($roomId: ID!, $body: String!, $c: ID!) { sendMessage(roomId: $roomId, body: $body, clientMessageId: $c) { id } }', {
    roomId,
    body,
    c: `c-${Math.random()}`,
  });
  return data.sendMessage.id;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000, what: string | (() => string) = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
