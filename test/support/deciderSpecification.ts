import { expect } from 'vitest';
import type { Decider } from '../../src/domain/decider.js';

/*
 * Given/when/then for a decider, after Emmett's `DeciderSpecification`: the state is folded from
 * the given events (at revisions 1, 2, 3, …), the command is decided on it, and the decision is
 * compared with what was expected. No store, no handler, no clock: a rule is one line of events
 * and runs in microseconds.
 *
 *   const spec = DeciderSpecification.for(roomDecider);
 *   spec.given([created(ROOM)]).when(join(bob)).then([{ type: 'MemberJoined', data: { … } }]);
 *
 * Event ids: most are random, so an expected event without an `id` is compared without it; one
 * that has an `id` (a value, or a matcher such as `expect.stringMatching(UUID)`) is compared with it.
 */

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export interface Decided<Event> {
  /** The decision is exactly these events, in this order; returns them for further checks. */
  then(expected: Array<Event & { id?: string }>): Array<Event & { id: string }>;
  /** The command is accepted and changes nothing (an idempotent resend, a second leave). */
  thenNothing(): void;
  /** The command is refused with an `errorClass` (that also passes `predicate`, if given). */
  thenThrows<E extends Error>(errorClass: ErrorClass<E>, predicate?: (error: E) => boolean): E;
}

export const DeciderSpecification = {
  for<State, Command, Event>(decider: Decider<State, Command, Event>) {
    return {
      given(events: Event[] = []) {
        return {
          when(command: Command): Decided<Event> {
            const decide = () => {
              const state = events.reduce((folded, event, i) => decider.evolve(folded, event, i + 1), decider.initialState());
              return decider.decide(state, command);
            };
            return {
              then(expected) {
                const actual = decide();
                const comparable = actual.map((event, i) => {
                  const wanted = expected[i] as object | undefined;
                  if (wanted && 'id' in wanted) return event;
                  const { id: _id, ...withoutId } = event;
                  return withoutId;
                });
                expect(comparable).toEqual(expected);
                return actual;
              },
              thenNothing() {
                expect(decide()).toEqual([]);
              },
              thenThrows(errorClass, predicate) {
                let thrown: unknown;
                let decided: unknown;
                try {
                  decided = decide();
                } catch (error) {
                  thrown = error;
                }
                expect(thrown, `expected ${errorClass.name}, but it decided ${JSON.stringify(decided)}`).toBeInstanceOf(errorClass);
                if (predicate) expect(predicate(thrown as never), `${String(thrown)} does not match the condition`).toBe(true);
                return thrown as never;
              },
            };
          },
        };
      },
    };
  },
};
