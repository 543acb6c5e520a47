import { createInterface } from 'node:readline';
import { ChatClientError, type ChatClient, type Message } from '../src/index.js';
import { createEventText, printable } from './eventText.js';

export interface JoinOptions {
  room: string;
  password?: string;
  /** Messages of history shown before the live feed. */
  history: number;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WriteStream;
}

/**
 * `chat join <room>`: the room live, with a prompt to send. Joins (a private room needs its
 * password once), shows the last messages, then every event as it happens, resumed by seq after
 * any disconnect; each line typed is sent (stored exactly once, retried across reconnects) and
 * shows up through the live feed like everyone else's. `/quit` or Ctrl-D leaves the prompt; the
 * membership stays.
 */
export async function joinInteractive(client: ChatClient, options: JoinOptions): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const terminal = output.isTTY === true;
  const room = await client.joinRoom(options.room, options.password);
  const me = await client.me();
  const text = createEventText();

  // Lines arriving while someone types: clear the prompt line, print, redraw the prompt with what
  // was typed so far (readline keeps it).
  const lines = createInterface({ input, output, terminal, prompt: `${me?.name ?? 'you'}> ` });
  const print = (line: string) => {
    if (terminal) output.write('\r\x1b[K');
    output.write(`${line}\n`);
    if (terminal) lines.prompt(true);
  };

  output.write(`— ${printable(room.name)}${room.private ? ' (private)' : ''} · ${room.memberCount} member${room.memberCount === 1 ? '' : 's'} · type a message and Enter; /quit or Ctrl-D to leave —\n`);
  const history: Message[] = options.history > 0 ? await client.messages(room.id, { limit: options.history }) : [];
  const shown = new Set<string>();
  for (const message of history.filter((m) => !m.deleted).sort((a, b) => a.seq - b.seq)) {
    text.remember(message);
    shown.add(message.id);
    output.write(`${printable(`${message.author.name}: ${message.body}`)}${message.editedAt ? ' (edited)' : ''}\n`);
  }

  const feed = client.onRoomEvents(
    room.id,
    (event) => {
      if (event.__typename === 'MessagePosted' && shown.has(event.message.id)) return;
      print(text.describe(event));
    },
    { afterSeq: room.headSeq, onError: (error) => print(`! ${error.code}: ${error.message}`) },
  );
  const stopStatus = client.onStatus((status) => {
    if (status === 'reconnecting') print('! reconnecting…');
  });

  lines.prompt();
  const done = new Promise<void>((resolve) => lines.once('close', () => resolve()));
  lines.on('line', (line) => {
    const body = line.trim();
    if (body === '/quit') return lines.close();
    if (body !== '') {
      client.send(room.id, body).catch((error: unknown) => {
        const wait = error instanceof ChatClientError && error.retryAfterMs !== undefined ? ` (retry in ${Math.ceil(error.retryAfterMs / 1000)} s)` : '';
        print(`! not sent: ${error instanceof ChatClientError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}${wait}`);
      });
    }
    lines.prompt();
  });
  lines.on('SIGINT', () => lines.close());
  await done;
  if (terminal) output.write('\n');
  stopStatus();
  feed.unsubscribe();
}
