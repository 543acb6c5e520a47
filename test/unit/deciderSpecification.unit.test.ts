import { describe, expect, it } from 'vitest';
import type { Decider } from '../../src/domain/decider.js';
import { DeciderSpecification } from '../support/deciderSpecification.js';

/* The given/when/then helper fails when it should: otherwise every specification would pass. */
type Event = { type: 'Added'; data: { by: number; total: number } };
const counter: Decider<number, number, Event> = {
  initialState: () => 0,
  evolve: (total, event) => total + event.data.by,
  decide: (total, add) => {
    if (add < 0) throw new RangeError('add a positive number');
    return add === 0 ? [] : [{ id: `added-${total + add}`, type: 'Added', data: { by: add, total: total + add } }];
  },
};
const spec = DeciderSpecification.for(counter);
const added = (by: number, total: number): Event => ({ type: 'Added', data: { by, total } });

describe('DeciderSpecification', () => {
  it('folds the given events, then compares the decision without ids unless one is expected', () => {
    spec.given([added(2, 2), added(3, 5)]).when(1).then([added(1, 6)]);
    spec.given([added(2, 2)]).when(1).then([{ ...added(1, 3), id: 'added-3' }]);
    spec.given([added(2, 2)]).when(1).then([{ ...added(1, 3), id: expect.stringMatching(/^added-/) }]);
    spec.given().when(0).thenNothing();
    spec.given().when(-1).thenThrows(RangeError, (error) => /positive/.test(error.message));
  });

  it('fails on another decision, a wrong id, events where nothing was expected, or no error', () => {
    expect(() => spec.given([added(2, 2)]).when(1).then([added(1, 4)])).toThrow();
    expect(() => spec.given().when(1).then([{ ...added(1, 1), id: 'other' }])).toThrow();
    expect(() => spec.given().when(1).then([])).toThrow();
    expect(() => spec.given().when(1).thenNothing()).toThrow();
    expect(() => spec.given().when(1).thenThrows(RangeError)).toThrow(/expected RangeError/);
  });

  it('fails on an error of another class, or one that does not match the condition', () => {
    expect(() => spec.given().when(-1).thenThrows(TypeError)).toThrow();
    expect(() => spec.given().when(-1).thenThrows(RangeError, () => false)).toThrow(/does not match/);
  });
});
