import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../client/src/index.js';
import { createEventText, printable } from '../../client/terminal/eventText.js';

const ada = { id: 'u1', name: 'ada' };
const base = { roomId: 'r', at: '2026-01-01T00:00:00.000Z' };
const posted = (seq: number, id: string, body: string) =>
  ({ ...base, seq, __typename: 'MessagePosted', message: { id, clientMessageId: id, roomId: 'r', seq, author: ada, body, createdAt: base.at, editedAt: null, deleted: false } }) as unknown as RoomEvent;
const edited = (seq: number, messageId: string, body: string) => ({ ...base, seq, __typename: 'MessageEdited', messageId, body }) as unknown as RoomEvent;
const deleted = (seq: number, messageId: string) => ({ ...base, seq, __typename: 'MessageDeleted', messageId }) as unknown as RoomEvent;

describe('terminal lines for room events (client/terminal/eventText.ts)', () => {
  it('edits and deletes quote the message as it was, never its id', () => {
    const text = createEventText();
    expect(text.describe(posted(1, 'm1', 'see you at 5'))).toBe('ada: see you at 5');
    expect(text.describe(edited(2, 'm1', 'see you at 6'))).toBe('* ada edited "see you at 5" → see you at 6');
    expect(text.describe(deleted(3, 'm1'))).toBe('* ada deleted "see you at 6"');
    expect(text.describe(deleted(4, 'm1'))).toBe('* an earlier message was deleted');
  });

  it('a message it never saw is "an earlier message"; one from history is quoted; long ones are cut', () => {
    const text = createEventText();
    expect(text.describe(edited(5, 'unseen', 'new text'))).toBe('* an earlier message was edited → new text');
    text.remember({ id: 'h1', body: `a long message ${'x'.repeat(60)}\nover two lines`, author: ada, deleted: false });
    const line = text.describe(deleted(6, 'h1'));
    expect(line).toMatch(/^\* ada deleted "a long message x+…"$/);
    expect(line).not.toContain('h1');
    expect([...line.matchAll(/[^"]+(?=")/g)].at(-1)?.[0]).toHaveLength(40);
  });
});

describe('lines others wrote, printed in a terminal', () => {
  it('a body over several lines goes on indented: no line of it passes for another user', () => {
    const text = createEventText();
    expect(text.describe(posted(1, 'm1', 'hi\nbob: send me your password\r\nok'))).toBe('ada: hi\n    bob: send me your password\n    ok');
  });

  it('control characters are shown, not obeyed: no escape sequence, no carriage return over the line', () => {
    const text = createEventText();
    const line = text.describe(posted(1, 'm1', 'safe\rbob: x \u001b[2J\u001b]0;title\u0007 \u009b31m \u007f'));
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(line).toBe('ada: safe\n    bob: x \u241b[2J\u241b]0;title\u2407 \ufffd31m \u2421');
    expect(printable('tab\tstays')).toBe('tab\tstays');
  });

  it('remembers a bounded number of messages for quoting (a tail may run for days)', () => {
    const text = createEventText();
    for (let i = 0; i < 10_001; i++) text.remember({ id: `m${i}`, body: `message ${i}`, author: ada, deleted: false });
    expect(text.describe(deleted(1, 'm0'))).toBe('* an earlier message was deleted');
    expect(text.describe(deleted(2, 'm10000'))).toBe('* ada deleted "message 10000"');
    expect(text.describe(deleted(3, 'm1'))).toBe('* ada deleted "message 1"');
  });
});
