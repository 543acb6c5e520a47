/** The web chat's pure parts: links, grouping and date lines, read marks and unread counts, the live room list. */
import { describe, expect, it } from 'vitest';
import type { Room, RoomEvent } from '../../client/src/index.js';
import { dayLabel, GROUP_GAP_MS, placeMessages } from '../../client/web/src/messageLayout.js';
import { linkify, safeHref } from '../../client/web/src/messageText.js';
import { loadReadMarks, markRead, saveReadMarks, tabTitle, unreadCount } from '../../client/web/src/readMarks.js';
import { mergeFetched, roomAfterEvent } from '../../client/web/src/roomLists.js';

describe('links in messages', () => {
  it('links http and https URLs, leaving sentence punctuation outside', () => {
    expect(linkify('see https://example.com/a?b=1&c=2. ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1&c=2', href: 'https://example.com/a?b=1&c=2' },
      { kind: 'text', text: '. ok' },
    ]);
    expect(linkify('(http://x.example/path), done').map((p) => p.text)).toEqual(['(', 'http://x.example/path', '), done']);
    expect(linkify('https://en.wikipedia.org/wiki/Foo_(bar)').map((p) => p.kind)).toEqual(['link']);
  });

  it('leaves every other scheme and all markup as text', () => {
    for (const body of ['javascript:alert(1)', 'data:text/html,<script>x</script>', '<img src=x onerror=alert(1)>', 'www.example.org', 'ftp://example.org/f', 'vbscript:msgbox']) {
      expect(linkify(body)).toEqual([{ kind: 'text', text: body }]);
    }
    expect(linkify('')).toEqual([]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://a.example/x y')).toBe('https://a.example/x%20y');
  });

  it('puts the parts back together into the body exactly', () => {
    const body = 'a https://x.example/1 b http://y.example, c <b>d</b> https://z.example/?q="x"';
    expect(linkify(body).map((p) => p.text).join('')).toBe(body);
  });
});

describe('message grouping and date lines', () => {
  const at = (iso: string, author = 'ada', name = author) => ({ author: { id: author, name }, createdAt: iso });
  const dayOf = (iso: string) => iso.slice(0, 10);

  it("groups one author's consecutive messages within a few minutes, and starts a day with a date line", () => {
    const placed = placeMessages(
      [
        at('2026-03-01T10:00:00Z'),
        at('2026-03-01T10:01:00Z'),
        at('2026-03-01T10:02:00Z', 'bob'),
        at('2026-03-01T10:02:30Z'),
        at(new Date(Date.parse('2026-03-01T10:02:30Z') + GROUP_GAP_MS).toISOString()),
        at('2026-03-02T00:00:01Z'),
        at('2026-03-02T00:00:02Z', 'ada', 'Ada Lovelace'),
      ],
      dayOf,
    );
    expect(placed).toEqual([
      { dayBefore: '2026-03-01', continues: false },
      { dayBefore: null, continues: true },
      { dayBefore: null, continues: false },
      { dayBefore: null, continues: false },
      { dayBefore: null, continues: false },
      { dayBefore: '2026-03-02', continues: false },
      { dayBefore: null, continues: false }, // renamed in between: the new name gets a header
    ]);
  });

  it('names today and yesterday, and writes other days out', () => {
    const now = new Date(2026, 2, 10, 12);
    expect(dayLabel('2026-03-10', now)).toBe('Today');
    expect(dayLabel('2026-03-09', now)).toBe('Yesterday');
    expect(dayLabel('2026-03-01', now)).toContain('2026');
  });
});

describe('read marks and unread counts', () => {
  function memoryStorage() {
    const data = new Map<string, string>();
    return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
  }

  it('keeps marks per user, only moving forward, and survives junk in storage', () => {
    const storage = memoryStorage();
    let marks = markRead({}, 'r1', 5);
    expect(markRead(marks, 'r1', 3)).toBe(marks);
    marks = markRead(marks, 'r1', 9);
    saveReadMarks('u1', marks, storage);
    expect(loadReadMarks('u1', storage)).toEqual({ r1: 9 });
    expect(loadReadMarks('u2', storage)).toEqual({});
    storage.setItem('roomlog.read.u3', '{not json');
    expect(loadReadMarks('u3', storage)).toEqual({});
    storage.setItem('roomlog.read.u4', '{"r1":"x","r2":4}');
    expect(loadReadMarks('u4', storage)).toEqual({ r2: 4 });
  });

  it('counts the events past the mark, none without a mark, and puts the total in the title', () => {
    expect(unreadCount(12, 9)).toBe(3);
    expect(unreadCount(9, 12)).toBe(0);
    expect(unreadCount(12, undefined)).toBe(0);
    expect(tabTitle(0)).toBe('roomlog');
    expect(tabTitle(4)).toBe('(4) roomlog');
    expect(tabTitle(12_345)).toBe('(999+) roomlog');
  });
});

describe("the user's rooms, kept current by their events", () => {
  const room: Room = { id: 'r', name: 'r', private: false, headSeq: 10, oldestSeq: 1, memberCount: 2, createdAt: '2026-01-01T00:00:00Z' };
  const event = (seq: number, type: 'MemberJoined' | 'MemberLeft' | 'MessageDeleted'): RoomEvent =>
    type === 'MessageDeleted'
      ? { __typename: type, seq, roomId: 'r', at: 'x', messageId: 'm' }
      : { __typename: type, seq, roomId: 'r', at: 'x', user: { id: 'u', name: 'u' } };

  it('moves the head and the member count with each new event, and ignores events the list already reflects', () => {
    expect(roomAfterEvent(room, event(11, 'MemberJoined'))).toMatchObject({ headSeq: 11, memberCount: 3 });
    expect(roomAfterEvent(room, event(11, 'MemberLeft'))).toMatchObject({ headSeq: 11, memberCount: 1 });
    expect(roomAfterEvent(room, event(11, 'MessageDeleted'))).toMatchObject({ headSeq: 11, memberCount: 2 });
    expect(roomAfterEvent(room, event(10, 'MemberJoined'))).toBe(room);
  });

  it('takes a fresh read, except where live events are ahead of it', () => {
    const live = [{ ...room, headSeq: 14, memberCount: 3 }];
    expect(mergeFetched(live, [room, { ...room, id: 'new' }])).toEqual([live[0], { ...room, id: 'new' }]);
    expect(mergeFetched(live, [{ ...room, headSeq: 20 }])).toEqual([{ ...room, headSeq: 20 }]);
    expect(mergeFetched(null, [])).toEqual([]);
  });
});
