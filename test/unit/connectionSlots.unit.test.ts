import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/domain/errors.js';
import { ConnectionSlots } from '../../src/server/connectionSlots.js';

describe("ConnectionSlots: one WebSocket connection's operations, by kind", () => {
  it('counts subscriptions and operations apart, each against its own cap', () => {
    const open = new Set<string>();
    const isOpen = (id: string) => open.has(id);
    const slots = new ConnectionSlots({ subscription: 2, operation: 1 });
    for (const id of ['s1', 's2', 'q1']) open.add(id);
    expect(slots.reserve('s1', 'subscription', isOpen)).toBeNull();
    expect(slots.reserve('s2', 'subscription', isOpen)).toBeNull();
    const refused = slots.reserve('s3', 'subscription', isOpen);
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect(refused?.message).toBe('at most 2 subscriptions at once on one connection');
    expect(slots.reserve('q1', 'operation', isOpen)).toBeNull();
    expect(slots.reserve('q2', 'operation', isOpen)?.message).toMatch(/at most 1 queries and mutations at once/);
    expect(slots.count('subscription')).toBe(2);
  });

  it('a slot still being set up counts even if graphql-ws no longer lists it; once set up, it is free when no longer listed', () => {
    const open = new Set(['a']);
    const isOpen = (id: string) => open.has(id);
    const slots = new ConnectionSlots({ subscription: 1, operation: 1 });
    expect(slots.reserve('a', 'subscription', isOpen)).toBeNull();
    open.delete('a'); // the client completed it while it was being set up
    expect(slots.reserve('b', 'subscription', isOpen)?.message).toMatch(/at most 1 subscriptions/);
    expect(slots.reserve('a', 'subscription', isOpen)?.message).toMatch(/still in use/);
    slots.settled('a');
    expect(slots.reserve('b', 'subscription', isOpen)).toBeNull();
    expect(slots.count('subscription')).toBe(1);
  });

  it('an id graphql-ws accepts again replaces its finished operation; release is idempotent', () => {
    const slots = new ConnectionSlots({ subscription: 5, operation: 5 });
    const always = () => true;
    expect(slots.reserve('x', 'subscription', always)).toBeNull();
    slots.settled('x');
    expect(slots.reserve('x', 'operation', always)).toBeNull();
    expect(slots.count('subscription')).toBe(0);
    expect(slots.count('operation')).toBe(1);
    slots.release('x');
    slots.release('x');
    slots.release('nope');
    expect(slots.count('operation')).toBe(0);
  });
});
