// The shape of an event-sourced aggregate, as three pure functions: where state starts,
// how one event changes it, and how a command becomes new events or a refusal. The write
// side's generic command handler runs any aggregate of this shape.

export type Decision<Event, Rejection> =
  | { readonly accepted: true; readonly events: readonly Event[] }
  | { readonly accepted: false; readonly rejection: Rejection };

export interface Decider<Command, Event, State, Rejection> {
  readonly initialState: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Decision<Event, Rejection>;
}

export function accept<Event>(...events: Event[]): Decision<Event, never> {
  return { accepted: true, events };
}

export function reject<Rejection>(rejection: Rejection): Decision<never, Rejection> {
  return { accepted: false, rejection };
}
