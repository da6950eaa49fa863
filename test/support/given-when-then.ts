// The spec helper: given these past events, when this command, then these new events (or
// this refusal). It runs the aggregate's pure functions, exactly as the command handler does.

import { expect } from 'vitest';
import type { Decider } from '../../src/domain/decider.ts';

export function specFor<Command, Event, State, Rejection>(decider: Decider<Command, Event, State, Rejection>) {
  return {
    given: (...history: Event[]) => ({
      when: (command: Command) => {
        const decision = decider.decide(command, history.reduce(decider.evolve, decider.initialState));
        return {
          then: (...expected: Event[]) => expect(decision).toEqual({ accepted: true, events: expected }),
          thenRefused: (rejection: Rejection) => expect(decision).toEqual({ accepted: false, rejection }),
        };
      },
    }),
  };
}
