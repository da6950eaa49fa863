// The write side's one command handler, for any aggregate shaped as a Decider: read the
// stream, fold its events into state, decide, append with the version decided against.
// Optimistic concurrency: if another writer got there first, re-read and decide again.

import type { Decider } from '../domain/decider.ts';
import type { EncodedEvent, EventStore, RecordedEvent, StreamId } from '../event-store/event-store.ts';
import { readWholeStream } from '../event-store/event-store.ts';
import { ConcurrencyError } from '../event-store/errors.ts';

export type CommandOutcome<Event, Rejection> =
  | {
      readonly status: 'accepted';
      readonly events: readonly Event[];
      /** The stream version the decision was made against (the append's expected version). */
      readonly expectedVersion: number;
      /** How many events were read and folded to make the decision. */
      readonly eventsRead: number;
      readonly lastVersion: number;
      /** Where the last new event sits in the global log: what a reader waits for. */
      readonly lastGlobalPosition: number;
      readonly attempts: number;
    }
  | { readonly status: 'rejected'; readonly rejection: Rejection; readonly version: number; readonly eventsRead: number };

export interface CommandHandlerOptions<Command, Event, State, Rejection> {
  readonly store: EventStore;
  readonly tenantId: string;
  readonly decider: Decider<Command, Event, State, Rejection>;
  readonly streamOf: (command: Command) => StreamId;
  readonly encode: (event: Event) => EncodedEvent;
  readonly decode: (recorded: RecordedEvent) => Event;
  readonly newEventId: () => string;
  readonly now: () => number;
  readonly retry?: RetryPolicy;
  /** Told of each step as it happens: the CLI's --trace shows the path a command took. */
  readonly observe?: (step: CommandStep<Event, Rejection>) => void;
}

export type CommandStep<Event, Rejection> =
  | { readonly step: 'read'; readonly stream: StreamId; readonly eventsRead: number; readonly version: number; readonly attempt: number }
  | { readonly step: 'decided'; readonly events: readonly Event[] }
  | { readonly step: 'refused'; readonly rejection: Rejection }
  | { readonly step: 'conflict'; readonly expectedVersion: number; readonly actualVersion: number; readonly attempt: number }
  | { readonly step: 'appended'; readonly expectedVersion: number; readonly lastVersion: number; readonly lastGlobalPosition: number };

export interface RetryPolicy {
  /** Attempts in all, the first included, before a conflict is given up on. */
  readonly maxAttempts: number;
  /** The jitter before attempt n is random in [0, baseDelayMs * 2^(n-2)], capped at maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 20, baseDelayMs: 2, maxDelayMs: 100 };

export type CommandHandler<Command, Event, Rejection> = (command: Command) => Promise<CommandOutcome<Event, Rejection>>;

export function createCommandHandler<Command, Event, State, Rejection>(
  options: CommandHandlerOptions<Command, Event, State, Rejection>,
): CommandHandler<Command, Event, Rejection> {
  const { store, tenantId, decider, retry = DEFAULT_RETRY, observe = () => {} } = options;

  return async function handle(command) {
    const stream = options.streamOf(command);
    // One id ties together every event this command produced, across retries, and keys the
    // append so that a store resending a batch whose answer was lost cannot apply it twice.
    const commandId = options.newEventId();
    for (let attempt = 1; ; attempt++) {
      const history = await readWholeStream(store, { tenantId, aggregateId: stream.aggregateId });
      const state = history.map(options.decode).reduce(decider.evolve, decider.initialState);
      const version = history.at(-1)?.version ?? 0;
      observe({ step: 'read', stream, eventsRead: history.length, version, attempt });

      const decision = decider.decide(command, state);
      if (!decision.accepted) {
        observe({ step: 'refused', rejection: decision.rejection });
        return { status: 'rejected', rejection: decision.rejection, version, eventsRead: history.length };
      }
      if (decision.events.length === 0) {
        const lastGlobalPosition = history.at(-1)?.globalPosition ?? 0;
        const unchanged = { expectedVersion: version, eventsRead: history.length, lastVersion: version, lastGlobalPosition };
        return { status: 'accepted', events: [], ...unchanged, attempts: attempt };
      }
      observe({ step: 'decided', events: decision.events });
      try {
        const appended = await store.append({
          tenantId,
          stream,
          expectedVersion: version,
          // A store that lost its answer may send this batch again: the key makes that safe.
          idempotencyKey: commandId,
          events: decision.events.map((event) => ({
            ...options.encode(event),
            eventId: options.newEventId(),
            correlationId: commandId,
            causationId: commandId,
            clientTimestampMs: options.now(),
          })),
        });
        const { lastVersion, lastGlobalPosition } = appended;
        observe({ step: 'appended', expectedVersion: version, lastVersion, lastGlobalPosition });
        return {
          status: 'accepted',
          events: decision.events,
          expectedVersion: version,
          eventsRead: history.length,
          lastVersion,
          lastGlobalPosition,
          attempts: attempt,
        };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= retry.maxAttempts) throw error;
        observe({ step: 'conflict', expectedVersion: version, actualVersion: error.actualVersion, attempt });
        await sleep(jitter(retry, attempt + 1));
      }
    }
  };
}

function jitter(retry: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(retry.baseDelayMs * 2 ** (attempt - 2), retry.maxDelayMs);
  return Math.random() * ceiling;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
