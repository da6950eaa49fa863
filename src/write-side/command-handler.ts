// The write side's one command handler, for any aggregate shaped as a Decider: read the
// stream, fold its events into state, decide, append with the version decided against.
// Optimistic concurrency: if another writer got there first, read what it wrote and decide
// again. With a StateCache (state-cache.ts) it starts from the state it last saw instead.
// A command carries its own id, so sending it again is safe (command-ids.ts).

import type { Decider } from '../domain/decider.ts';
import type { EncodedEvent, EventStore, RecordedEvent, StreamId } from '../event-store/event-store.ts';
import { ConcurrencyError, DuplicateEventIdError, IdempotencyKeyReusedError } from '../event-store/errors.ts';
import { CommandIdReusedError, findRecordedBatch, RecordedBatch } from './command-ids.ts';
import type { KnownState, StateCache } from './state-cache.ts';
import { backOff, DEFAULT_RETRY } from './retry-policy.ts';
import type { RetryPolicy } from './retry-policy.ts';

export { CommandIdReusedError } from './command-ids.ts';
export type { RetryPolicy } from './retry-policy.ts';

export type CommandOutcome<Event, Rejection> =
  | {
      readonly status: 'accepted';
      readonly events: readonly Event[];
      /** The stream version the decision was made against (the append's expected version). */
      readonly expectedVersion: number;
      /** How many events this command read from the store and folded (0: all from the cache). */
      readonly eventsRead: number;
      readonly lastVersion: number;
      /** Where the last new event sits in the global log: what a reader waits for. */
      readonly lastGlobalPosition: number;
      readonly attempts: number;
    }
  | { readonly status: 'rejected'; readonly rejection: Rejection; readonly version: number; readonly eventsRead: number }
  /** Sent before and recorded then: nothing appended now; these are the events it recorded. */
  | {
      readonly status: 'already-recorded';
      readonly events: readonly Event[];
      readonly lastVersion: number;
      readonly lastGlobalPosition: number;
      readonly eventsRead: number;
    };

/** A stream holds an event its own aggregate cannot read: no command on it can be decided. */
export class UndecidableStreamError extends Error {}

export interface CommandHandlerOptions<Command, Event, State, Rejection> {
  readonly store: EventStore;
  readonly tenantId: string;
  readonly decider: Decider<Command, Event, State, Rejection>;
  readonly streamOf: (command: Command) => StreamId;
  readonly encode: (event: Event) => EncodedEvent;
  readonly decode: (recorded: RecordedEvent) => Event;
  /**
   * The command's own id, given by its sender (a transaction id, say): the append's
   * idempotency key, and the seed of its event ids, so that sending it again is safe.
   */
  readonly commandIdOf: (command: Command) => string;
  /** Whether events found under the command's id are what this very command recorded: a resend, not another command. */
  readonly isRecordedBy: (command: Command, events: readonly Event[]) => boolean;
  readonly now: () => number;
  readonly retry?: RetryPolicy;
  /** Remembers each stream's state between commands; without it every command reads its stream. */
  readonly cache?: StateCache<State>;
  /** Told of each step as it happens: the CLI's --trace shows the path a command took. */
  readonly observe?: (step: CommandStep<Event, Rejection>) => void;
}

export type CommandStep<Event, Rejection> =
  | { readonly step: 'cached'; readonly stream: StreamId; readonly version: number }
  | {
      readonly step: 'read';
      readonly stream: StreamId;
      /** Why: the stream's first read, the events a conflict revealed, or a refusal's check. */
      readonly reason: 'load' | 'conflict' | 'confirm';
      readonly afterVersion: number;
      readonly eventsRead: number;
      readonly version: number;
    }
  | { readonly step: 'decided'; readonly events: readonly Event[] }
  | { readonly step: 'refused'; readonly rejection: Rejection }
  | { readonly step: 'already-recorded'; readonly lastVersion: number; readonly lastGlobalPosition: number }
  | { readonly step: 'conflict'; readonly expectedVersion: number; readonly actualVersion: number; readonly attempt: number }
  | { readonly step: 'appended'; readonly expectedVersion: number; readonly lastVersion: number; readonly lastGlobalPosition: number };

export type CommandHandler<Command, Event, Rejection> = (command: Command) => Promise<CommandOutcome<Event, Rejection>>;

export function createCommandHandler<Command, Event, State, Rejection>(
  options: CommandHandlerOptions<Command, Event, State, Rejection>,
): CommandHandler<Command, Event, Rejection> {
  const { store, tenantId, decider, cache, retry = DEFAULT_RETRY, observe = () => {} } = options;

  return async function handle(command) {
    const stream = options.streamOf(command);
    // The command's own id ties together every event it produces and keys the append, so a
    // resend, by a store that lost its answer or by a person after exit 3, is the same batch.
    const commandId = options.commandIdOf(command);
    // Its own events, should the stream already hold them: then it was sent before.
    const ownBatch = new RecordedBatch(commandId);
    let eventsRead = 0;
    let readFromStart = false;
    const readOn = async (known: KnownState<State>, reason: 'load' | 'conflict' | 'confirm'): Promise<KnownState<State>> => {
      const { next, read } = await foldEventsAfter(stream, known, ownBatch);
      eventsRead += read;
      if (known.version === 0) readFromStart = true;
      observe({ step: 'read', stream, reason, afterVersion: known.version, eventsRead: read, version: next.version });
      return next;
    };

    const cached = cache?.get(stream.aggregateId);
    if (cached !== undefined) observe({ step: 'cached', stream, version: cached.version });
    let known = cached ?? (await readOn({ state: decider.initialState, version: 0 }, 'load'));
    // Whether `known` was read from the store during this command, rather than remembered.
    let fresh = cached === undefined;
    // The first event of another command that holds this command's id in this stream.
    let taken: RecordedEvent | undefined;
    for (let attempt = 1; ; ) {
      if (isResend(command, stream, ownBatch)) return sentBefore(stream, ownBatch, eventsRead);
      taken ??= ownBatch.events[0];
      const decision = decider.decide(command, known.state);
      if (!fresh && (!decision.accepted || decision.events.length === 0)) {
        // A refusal never reaches the store, so nothing would catch one made on a state
        // another writer has moved on: look for newer events, then decide again.
        known = await readOn(known, 'confirm');
        fresh = true;
        continue;
      }
      if (!decision.accepted) {
        // Sent before, a command may be refused now (the money spent since, the account
        // closed): unless this command read the whole stream, look for it before refusing.
        // Another command under its id is refused as the rules say, as if it had its own.
        const earlier = readFromStart || known.version === 0 ? ownBatch : await findSentBefore(stream, commandId);
        if (isResend(command, stream, earlier)) return sentBefore(stream, earlier, eventsRead);
        observe({ step: 'refused', rejection: decision.rejection });
        cache?.remember(stream.aggregateId, known);
        return { status: 'rejected', rejection: decision.rejection, version: known.version, eventsRead };
      }
      if (decision.events.length === 0) {
        const unchanged = { expectedVersion: known.version, eventsRead, lastVersion: known.version, lastGlobalPosition: 0 };
        return { status: 'accepted', events: [], ...unchanged, attempts: attempt };
      }
      // Its id is taken in this stream by another command: the store would refuse the append.
      if (taken !== undefined) throw new CommandIdReusedError(commandId, taken);
      observe({ step: 'decided', events: decision.events });
      try {
        const { lastVersion, lastGlobalPosition } = await store.append({
          tenantId,
          stream,
          expectedVersion: known.version,
          // The store answers a key it has seen with its first answer, or refuses it for another batch.
          idempotencyKey: commandId,
          events: decision.events.map((event, index) => ({
            ...options.encode(event),
            eventId: ownBatch.eventIdAt(index),
            correlationId: commandId,
            causationId: commandId,
            clientTimestampMs: options.now(),
          })),
        });
        observe({ step: 'appended', expectedVersion: known.version, lastVersion, lastGlobalPosition });
        rememberAppended(stream, known, decision.events, lastVersion);
        const expectedVersion = known.version;
        return { status: 'accepted', events: decision.events, expectedVersion, eventsRead, lastVersion, lastGlobalPosition, attempts: attempt };
      } catch (error) {
        // The key or the event ids are taken: this command was sent before (decided then on
        // another state, so another batch), or another command holds its id. In this stream,
        // that one moved the stream on: decide again on it, and let the rules answer first.
        if (error instanceof IdempotencyKeyReusedError || error instanceof DuplicateEventIdError) {
          const earlier = await findSentBefore(stream, commandId);
          if (isResend(command, stream, earlier)) return sentBefore(stream, earlier, eventsRead);
          taken = earlier.events[0];
          if (taken === undefined) throw new CommandIdReusedError(commandId, undefined);
          known = await readOn(known, 'conflict');
          fresh = true;
          continue;
        }
        // A remembered state that another writer moved on is not a lost race: the plain
        // handler would have read the stream first. Read on and decide again, uncounted.
        const staleCache = error instanceof ConcurrencyError && !fresh;
        if (!(error instanceof ConcurrencyError) || (!staleCache && attempt >= retry.maxAttempts)) {
          // Perhaps appended, perhaps not: the next command on this stream reads it afresh.
          cache?.forget(stream.aggregateId);
          throw error;
        }
        observe({ step: 'conflict', expectedVersion: known.version, actualVersion: error.actualVersion, attempt });
        if (!staleCache) {
          attempt++;
          await backOff(retry, attempt);
        }
        known = await readOn(known, 'conflict');
        fresh = true;
      }
    }
  };

  // The retry layer's steps, made once per handler: functions made inside `handle` are made
  // anew for every command, which under tsx (it keeps each function's name) costs more than
  // they do. Only `readOn` is, since it keeps this command's counts.

  /** Whether the batch found under its id is this very command, sent before. */
  function isResend(command: Command, stream: StreamId, batch: RecordedBatch): boolean {
    return batch.found && options.isRecordedBy(command, batch.events.map((recorded) => decodeOwn(stream, recorded)));
  }

  /** The answer to a command sent before: the events it recorded then. */
  function sentBefore(stream: StreamId, batch: RecordedBatch, eventsRead: number): CommandOutcome<Event, Rejection> {
    const last = batch.events[batch.events.length - 1];
    if (last === undefined) throw new Error('sentBefore needs the events the command recorded');
    observe({ step: 'already-recorded', lastVersion: last.version, lastGlobalPosition: last.globalPosition });
    const events = batch.events.map((recorded) => decodeOwn(stream, recorded));
    return { status: 'already-recorded', events, lastVersion: last.version, lastGlobalPosition: last.globalPosition, eventsRead };
  }

  function findSentBefore(stream: StreamId, commandId: string): Promise<RecordedBatch> {
    return findRecordedBatch(store, { tenantId, aggregateId: stream.aggregateId, commandId });
  }

  /** Folds the stream's events after `known.version` onto its state, page by page. */
  async function foldEventsAfter(stream: StreamId, known: KnownState<State>, ownBatch: RecordedBatch): Promise<{ next: KnownState<State>; read: number }> {
    let { state, version } = known;
    let read = 0;
    for (let fromVersion = version + 1; ; ) {
      const page = await store.readStream({ tenantId, aggregateId: stream.aggregateId, fromVersion, maxCount: 0, direction: 'forward' });
      for (const recorded of page.events) {
        state = decider.evolve(state, decodeOwn(stream, recorded));
        ownBatch.take(recorded);
        version = recorded.version;
        read++;
      }
      if (page.isEnd) return { next: { state, version }, read };
      fromVersion = page.nextFromVersion;
    }
  }

  /** An event of the stream its aggregate cannot read stops the command with a clear error, not a crash. */
  function decodeOwn(stream: StreamId, recorded: RecordedEvent): Event {
    try {
      return options.decode(recorded);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new UndecidableStreamError(`${stream.aggregateType} ${stream.aggregateId} cannot be decided on, its event at version ${recorded.version} cannot be read: ${why}`, { cause: error });
    }
  }

  /** The cache takes the appended events on, if the store moved the stream by exactly them. */
  function rememberAppended(stream: StreamId, known: KnownState<State>, events: readonly Event[], lastVersion: number): void {
    if (cache === undefined) return;
    if (lastVersion !== known.version + events.length) return cache.forget(stream.aggregateId);
    cache.remember(stream.aggregateId, { state: events.reduce(decider.evolve, known.state), version: lastVersion });
  }
}
