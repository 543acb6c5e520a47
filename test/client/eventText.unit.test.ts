import { describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../client/src/index.js';
import { createEventText } from '../../client/terminal/eventText.js';

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
