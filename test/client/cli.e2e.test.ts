/**
 * The terminal client (`npm run chat`, client/cli.ts) against a real node: tail follows a room,
 * send posts (as a session from --token, $ROOMLOG_TOKEN or --name), and every command has --help.
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
  const { ROOMLOG_TOKEN: _ignored, ...inherited } = process.env;
  const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: repoRoot, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
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
    for (const command of [[], ['tail'], ['send'], ['rooms'], ['session']]) {
      const help = await chat([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.stdout).toContain(`Usage: chat${command.length ? ` ${command[0]}` : ''}`);
    }
    const viaNpm = await chat(['tail', '--help'], {}, ['npm', 'run', '-s', 'chat', '--']);
    expect(viaNpm.code).toBe(0);
    expect(viaNpm.stdout).toContain('--room <id>');
  });
});
