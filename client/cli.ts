/**
 * `npm run chat -- <command>`: a terminal client built on the client library.
 *
 *   chat join R                   the room live, with a prompt to send (interactive)
 *   chat tail --room R            print a room's events as they come (resumes after disconnects)
 *   chat send --room R "text"     send a message (retried until acknowledged, stored once)
 *   chat rooms | chat session     list public rooms | create a session and print its token
 *
 * The node comes from --url, else $ROOMLOG_URL, else http://127.0.0.1:4000; the token from
 * --token, else $ROOMLOG_TOKEN, else a new session for --name.
 */
import { Command, InvalidArgumentError } from 'commander';
import WebSocket from 'ws';
import { ChatClientError, createChatClient, createSession, type ChatClient } from './src/index.js';
import { createEventText, printable } from './terminal/eventText.js';
import { joinInteractive } from './terminal/join.js';

interface ConnectionFlags {
  url: string[];
  token?: string;
  name?: string;
}

const wholeNumber = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
};
const urls = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(',').map((u) => u.trim()).filter(Boolean)];

const connectionFlags = (command: Command) =>
  command
    .option('--url <url>', 'a node (http://host:port); repeat or comma-separate several to fail over between them (default: $ROOMLOG_URL, else http://127.0.0.1:4000)', urls)
    .option('--token <token>', 'session token (default: $ROOMLOG_TOKEN)')
    .option('--name <name>', 'without a token: create a new session with this name');

/** --url, else ROOMLOG_URL (comma-separated like --url), else the default local node. */
function nodesFrom(flags: { url?: string[] }): string[] {
  if (flags.url?.length) return flags.url;
  const fromEnv = urls(process.env.ROOMLOG_URL ?? '', []);
  return fromEnv.length > 0 ? fromEnv : ['http://127.0.0.1:4000'];
}

async function connect(flags: ConnectionFlags): Promise<ChatClient> {
  const nodes = nodesFrom(flags);
  let token = flags.token ?? process.env.ROOMLOG_TOKEN;
  if (!token) {
    if (!flags.name) throw new ChatClientError('UNAUTHENTICATED', 'give --token, set ROOMLOG_TOKEN, or pass --name to start a new session');
    const session = await createSession(nodes, flags.name);
    token = session.token;
    process.stderr.write(`new session for ${session.user.name}; to reuse it: export ROOMLOG_TOKEN=${token}\n`);
  }
  return createChatClient({ url: nodes, token, webSocketImpl: WebSocket });
}

const program = new Command('chat').description('A terminal client for roomlog.').showHelpAfterError();

connectionFlags(
  program
    .command('tail')
    .description("print a room's events as they happen; resumes by seq after any disconnect, so nothing is missed or doubled")
    .requiredOption('--room <id>', 'the room')
    .option('--after <seq>', 'start after this seq (0: the whole log; default: from now)', wholeNumber)
    .option('--count <n>', 'exit after this many events', wholeNumber)
    .option('--password <password>', 'join the (private) room first with this password')
    .option('--json', 'one JSON object per line instead of text'),
).action(async (options: ConnectionFlags & { room: string; after?: number; count?: number; password?: string; json?: boolean }) => {
  const client = await connect(options);
  const stop = () => void client.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  client.onStatus((status) => {
    if (status === 'reconnecting') process.stderr.write('reconnecting…\n');
  });
  try {
    if (options.password !== undefined) await client.joinRoom(options.room, options.password);
    const text = createEventText();
    // Edits and deletes of recent messages from before the feed's start quote them too (best
    // effort: a room this session may not read has no history to give; the feed then says so).
    if (!options.json) for (const message of await client.messages(options.room, { limit: 200 }).catch(() => [])) text.remember(message);
    let seen = 0;
    for await (const event of client.roomEvents(options.room, { afterSeq: options.after })) {
      process.stdout.write(options.json ? `${JSON.stringify(event)}\n` : `#${event.seq} ${event.at.slice(11, 19)} ${text.describe(event)}\n`);
      if (options.count !== undefined && ++seen >= options.count) break;
    }
  } finally {
    await client.close();
  }
});

connectionFlags(
  program
    .command('send')
    .description('send a message to a room (joining it if needed); retried across reconnects until acknowledged, stored exactly once')
    .requiredOption('--room <id>', 'the room')
    .option('--password <password>', 'the password of a private room')
    .option('--client-message-id <id>', 'idempotency key (default: random); a resend with the same key is stored once')
    .option('--json', 'print the stored message as JSON')
    .argument('<text...>', 'the message'),
).action(async (text: string[], options: ConnectionFlags & { room: string; password?: string; clientMessageId?: string; json?: boolean }) => {
  const client = await connect(options);
  try {
    await client.joinRoom(options.room, options.password);
    const message = await client.send(options.room, text.join(' '), { clientMessageId: options.clientMessageId });
    process.stdout.write(options.json ? `${JSON.stringify(message)}\n` : `sent #${message.seq} (${message.id})\n`);
  } finally {
    await client.close();
  }
});

connectionFlags(program.command('rooms').description('list the public rooms, most active first').option('--json', 'as JSON')).action(
  async (options: ConnectionFlags & { json?: boolean }) => {
    const client = await connect(options);
    try {
      const rooms = await client.rooms();
      if (options.json) process.stdout.write(`${JSON.stringify(rooms)}\n`);
      else for (const room of rooms) process.stdout.write(`${room.id}  ${printable(room.name)}  (${room.memberCount} members, head #${room.headSeq})\n`);
    } finally {
      await client.close();
    }
  },
);

connectionFlags(
  program
    .command('join')
    .description('the room live with a prompt: type a line and Enter to send it; /quit or Ctrl-D to leave the prompt (you stay a member)')
    .argument('<room>', 'the room id')
    .option('--password <password>', 'the password of a private room (needed once, to join)')
    .option('--history <n>', 'messages of history to show first', wholeNumber, 20),
).action(async (room: string, options: ConnectionFlags & { password?: string; history: number }) => {
  const client = await connect(options);
  try {
    await joinInteractive(client, { room, password: options.password, history: options.history });
  } finally {
    await client.close();
  }
});

program
  .command('session')
  .description('create a session and print its token (export it as ROOMLOG_TOKEN)')
  .requiredOption('--name <name>', 'your name')
  .option('--url <url>', 'a node (default: $ROOMLOG_URL, else http://127.0.0.1:4000)', urls)
  .action(async (options: { name: string; url?: string[] }) => {
    const session = await createSession(nodesFrom(options), options.name);
    process.stdout.write(`${session.token}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ChatClientError) {
    const wait = error.retryAfterMs !== undefined ? ` (retry in ${Math.ceil(error.retryAfterMs / 1000)} s)` : '';
    process.stderr.write(`chat: ${error.code}: ${error.message}${wait}\n`);
    process.exit(error.code === 'RATE_LIMITED' ? 3 : 2);
  }
  process.stderr.write(`chat: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
