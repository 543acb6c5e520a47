import type { Message, RoomEvent } from '../src/index.js';

/** Longest excerpt of a message quoted in an edit or delete line. */
const QUOTE_CHARS = 40;
/** Messages remembered for quoting: the oldest are forgotten past this (a tail may run for days). */
const REMEMBERED = 10_000;

/**
 * A line others wrote, made safe for a terminal: control characters are shown, not obeyed (an
 * escape sequence could recolour or clear the screen, a carriage return overwrite the line's
 * start), and a message over several lines goes on indented, so no line of it can pass for a line
 * of another user ("bob: …").
 */
export function printable(line: string): string {
  return line
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
      const code = c.charCodeAt(0);
      return code < 0x20 ? String.fromCharCode(0x2400 + code) : code === 0x7f ? '\u2421' : '\ufffd';
    })
    .replace(/\n/g, '\n    ');
}

function quote(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return `"${oneLine.length > QUOTE_CHARS ? `${oneLine.slice(0, QUOTE_CHARS - 1)}…` : oneLine}"`;
}

/**
 * Turns room events into lines for people. An edit or a delete names only a message id, which
 * means nothing to a reader: it remembers the messages it has seen (from history or the feed) so
 * those lines quote the message instead ("ada edited "see you at 5" → see you at 6").
 */
export function createEventText() {
  const known = new Map<string, { author: string; body: string }>();
  const know = (id: string, entry: { author: string; body: string }) => {
    known.delete(id);
    known.set(id, entry);
    if (known.size > REMEMBERED) known.delete(known.keys().next().value!);
  };
  const remember = (message: Pick<Message, 'id' | 'body' | 'author' | 'deleted'>) => {
    if (!message.deleted) know(message.id, { author: message.author.name, body: message.body });
  };
  return {
    /** Messages shown before the feed started (history): later edits and deletes of them quote them. */
    remember,
    /** One line (indented continuations) for people, safe to print as it is. */
    describe(event: RoomEvent): string {
      return printable(this.words(event));
    },
    words(event: RoomEvent): string {
      switch (event.__typename) {
        case 'MessagePosted':
          remember(event.message);
          return `${event.message.author.name}: ${event.message.body}`;
        case 'MessageEdited': {
          const before = known.get(event.messageId);
          know(event.messageId, { author: before?.author ?? 'someone', body: event.body });
          return before ? `* ${before.author} edited ${quote(before.body)} → ${event.body}` : `* an earlier message was edited → ${event.body}`;
        }
        case 'MessageDeleted': {
          const before = known.get(event.messageId);
          known.delete(event.messageId);
          return before ? `* ${before.author} deleted ${quote(before.body)}` : '* an earlier message was deleted';
        }
        case 'MemberJoined':
          return `* ${event.user.name} joined`;
        case 'MemberLeft':
          return `* ${event.user.name} left`;
        case 'MemberRenamed':
          return `* ${event.previousName} is now known as ${event.user.name}`;
        case 'RoomCreated':
          return `* ${event.createdBy.name} created the ${event.private ? 'private ' : ''}room "${event.name}"`;
        case 'HistoryTrimmed':
          // Follows the jump it explains: a tail from an older seq starts at the oldest one kept.
          return `* retention removed the history before #${event.beforeSeq}`;
      }
    },
  };
}

export type EventText = ReturnType<typeof createEventText>;
