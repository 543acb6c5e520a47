import { describe, expect, it } from 'vitest';
import { getOperationAST, parse } from 'graphql';
import { buildSchema } from '../../schema/index.js';
import { OperationGroups } from '../../src/server/sharedExecution.js';
import { frameHeader } from '../../src/server/sharedFrame.js';
import type { RoomEvent } from '../../src/domain/events.js';
import { alice, joined, posted, stored } from './fixtures.js';

const QUERY = /* GraphQL */ `
  subscription Feed($roomId: ID!, $afterSeq: Int, $withUser: Boolean!) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      seq
      roomId
      at
      ... on MemberJoined {
        user @include(if: $withUser) {
          id
          name
        }
      }
      ... on MessagePosted {
        message {
          id
          body
          author {
            name
          }
        }
      }
    }
  }
`;

// As the server has them: parsed once per text (Yoga's document cache, then wsOperations.ts's), so
// the subscribers of one text hand in the same operation object, which is what groups them.
const parsed = new Map<string, ReturnType<typeof parse>>();

function request(variables: Record<string, unknown>, query = QUERY) {
  let document = parsed.get(query);
  if (!document) parsed.set(query, (document = parse(query)));
  const operation = getOperationAST(document, undefined)!;
  return { document, operation, operationName: 'Feed', variables, contextValue: {} };
}

const at = Date.UTC(2030, 0, 1, 12, 0, 0);
const joinEvent = (seq = 3, roomId = 'r1'): RoomEvent => stored(joined(roomId, alice), seq, seq, at);

describe('OperationGroups', () => {
  it('same query and selection variables, different roomId/afterSeq: ONE group', () => {
    const groups = new OperationGroups(buildSchema());
    const a = groups.acquire(request({ roomId: 'r1', afterSeq: 0, withUser: true }));
    const b = groups.acquire(request({ roomId: 'r2', afterSeq: 57, withUser: true }));
    const c = groups.acquire(request({ roomId: 'r3', withUser: true }));
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(groups.size).toBe(1);
    expect(a.refs).toBe(3);
  });

  it('a different value of a variable used inside the selection: a different group', () => {
    const groups = new OperationGroups(buildSchema());
    const withUser = groups.acquire(request({ roomId: 'r1', afterSeq: 0, withUser: true }));
    const withoutUser = groups.acquire(request({ roomId: 'r1', afterSeq: 0, withUser: false }));
    expect(withoutUser).not.toBe(withUser);
    expect(groups.size).toBe(2);
  });

  it('a different query text: a different group', () => {
    const groups = new OperationGroups(buildSchema());
    const a = groups.acquire(request({ roomId: 'r1', withUser: true }));
    const b = groups.acquire(request({ roomId: 'r1', withUser: true }, QUERY.replace('__typename', '__typename\n      seq')));
    expect(b).not.toBe(a);
    expect(groups.size).toBe(2);
  });

  it('the same text parsed apart (not from the cache) is a group of its own, rendering alike', () => {
    const groups = new OperationGroups(buildSchema());
    const cached = groups.acquire(request({ roomId: 'r1', withUser: true }));
    const document = parse(QUERY);
    const apart = groups.acquire({ ...request({ roomId: 'r1', withUser: true }), document, operation: getOperationAST(document, undefined)! });
    expect(apart).not.toBe(cached);
    expect(groups.size).toBe(2);
    expect(apart.render(joinEvent())).toBe(cached.render(joinEvent()));
  });

  it('a variable used in a fragment definition counts as a selection variable', () => {
    const query = /* GraphQL */ `
      subscription Feed($roomId: ID!, $withUser: Boolean!) {
        roomEvents(roomId: $roomId) {
          seq
          ...Joined
        }
      }
      fragment Joined on MemberJoined {
        user @include(if: $withUser) {
          id
        }
      }
    `;
    const groups = new OperationGroups(buildSchema());
    const a = groups.acquire(request({ roomId: 'r1', withUser: true }, query));
    const b = groups.acquire(request({ roomId: 'r2', withUser: true }, query));
    const c = groups.acquire(request({ roomId: 'r1', withUser: false }, query));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('release() to zero removes the group; a later acquire makes a fresh one', () => {
    const groups = new OperationGroups(buildSchema());
    const a = groups.acquire(request({ roomId: 'r1', withUser: true }));
    groups.acquire(request({ roomId: 'r2', withUser: true }));
    a.release();
    expect(groups.size).toBe(1);
    a.release();
    expect(groups.size).toBe(0);
    const again = groups.acquire(request({ roomId: 'r1', withUser: true }));
    expect(again).not.toBe(a);
    expect(groups.size).toBe(1);
  });

  it('releasing one group leaves the others', () => {
    const groups = new OperationGroups(buildSchema());
    const a = groups.acquire(request({ roomId: 'r1', withUser: true }));
    const b = groups.acquire(request({ roomId: 'r1', withUser: false }));
    a.release();
    expect(groups.size).toBe(1);
    expect(groups.acquire(request({ roomId: 'r9', withUser: false }))).toBe(b);
  });
});

describe('OperationGroup.render', () => {
  it('returns the JSON of {data:{roomEvents:{…}}} for the event', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', afterSeq: 0, withUser: true }));
    expect(JSON.parse(group.render(joinEvent()))).toEqual({
      data: {
        roomEvents: {
          __typename: 'MemberJoined',
          seq: 3,
          roomId: 'r1',
          at: '2030-01-01T12:00:00.000Z',
          user: { id: alice.id, name: alice.name },
        },
      },
    });
  });

  it('applies the selection variables of the group', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: false }));
    expect(JSON.parse(group.render(joinEvent()))).toEqual({
      data: { roomEvents: { __typename: 'MemberJoined', seq: 3, roomId: 'r1', at: '2030-01-01T12:00:00.000Z' } },
    });
  });

  it('renders a posted message', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    const event = stored(posted('r1', 'r1~m1', 'hello', alice), 4, 4, at);
    expect(JSON.parse(group.render(event))).toEqual({
      data: {
        roomEvents: {
          __typename: 'MessagePosted',
          seq: 4,
          roomId: 'r1',
          at: '2030-01-01T12:00:00.000Z',
          message: { id: 'r1~m1', body: 'hello', author: { name: 'Alice' } },
        },
      },
    });
  });

  it('is cached by room and seq: the second call returns the same text without executing again', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    const first = group.render(joinEvent());
    // Same room and seq, different content: only a cache hit can give the first rendering back.
    const impostor = stored(joined('r1', { id: 'u-other', name: 'Other' }), 3, 3, at);
    expect(group.render(impostor)).toBe(first);
    expect(group.render(joinEvent())).toBe(first);
  });

  it('different seqs or rooms are rendered separately', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    const first = JSON.parse(group.render(joinEvent(3, 'r1')));
    expect(JSON.parse(group.render(joinEvent(4, 'r1'))).data.roomEvents.seq).toBe(4);
    expect(JSON.parse(group.render(joinEvent(3, 'r2'))).data.roomEvents.roomId).toBe('r2');
    expect(first.data.roomEvents).toMatchObject({ seq: 3, roomId: 'r1' });
  });

  it('the cache is bounded: old entries are evicted and re-rendered', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    group.render(joinEvent(1));
    for (let seq = 2; seq <= 300; seq++) group.render(joinEvent(seq));
    const impostor = stored(joined('r1', { id: 'u-other', name: 'Other' }), 1, 1, at);
    expect(JSON.parse(group.render(impostor)).data.roomEvents.user.id).toBe('u-other');
  });
});

describe('OperationGroup.message: the bytes each subscriber is written', () => {
  const head = (id: string) => Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);

  it('one body per event for the whole group; a whole frame only for an id several subscriptions share', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    for (const id of ['1', '1', 'unique']) group.join(id);
    const event = joinEvent(4);
    const [a, b, c] = [group.message(event, '1', head('1')), group.message(event, '1', head('1')), group.message(event, 'unique', head('unique'))];
    expect(a.body).toBe(b.body);
    expect(c.body).toBe(a.body);
    expect(a.frame).toBeDefined();
    expect(b.frame).toBe(a.frame);
    expect(c.frame).toBeUndefined();
    const json = JSON.parse(Buffer.concat([head('unique'), c.body]).toString());
    expect(json).toMatchObject({ id: 'unique', type: 'next', payload: { data: { roomEvents: { seq: 4 } } } });
    // The frame is header + head + body: a text frame of that length.
    const whole = Buffer.concat([head('1'), a.body]);
    expect(a.frame!.subarray(a.frame!.length - whole.length).equals(whole)).toBe(true);
    expect(a.frame!.subarray(0, a.frame!.length - whole.length)).toEqual(frameHeader(whole.length));
    // The next event gets its own body and frames.
    const next = group.message(joinEvent(5), '1', head('1'));
    expect(next.body).not.toBe(a.body);
    expect(next.frame).not.toBe(a.frame);
  });

  it('an id left by all but one subscription is no longer framed whole', () => {
    const group = new OperationGroups(buildSchema()).acquire(request({ roomId: 'r1', withUser: true }));
    group.join('1');
    group.join('1');
    group.leave('1');
    expect(group.message(joinEvent(6), '1', head('1')).frame).toBeUndefined();
  });
});
