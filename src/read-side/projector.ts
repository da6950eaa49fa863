// Read side: the projector follows the event log and feeds every read model, in global
// order, from the position the read models reflect, each only the events past its own. It is
// the only bridge from the write side to the read side, and it goes through the event store.
// An event the read models cannot decode is parked (parked-events.ts); one that a read model
// fails on stops that read model alone, with the event's position named.

import type { EventStore, RecordedEvent } from '../event-store/event-store.ts';
import { isBankAccountEvent } from '../domain/bank-account-codec.ts';
import { decodeOrPark, mergeParked } from './parked-events.ts';
import type { ParkedEvent } from './parked-events.ts';
import type { ReadModel } from './read-model.ts';
import { Waiters } from './waiters.ts';

export { ProjectionTimeoutError } from './waiters.ts';

/** The projector can follow the log no longer; `cause` says why (often the store's error). */
export class ProjectorStoppedError extends Error {}

/** One read model failed on an event and takes no more; the others go on. `cause` is its error. */
export class ReadModelStoppedError extends Error {}

/**
 * Where read models stand: the log position they reflect, and the event there, by its id
 * and commit time (an event id alone may recur in another log: ids derive from commands).
 */
export interface Checkpoint {
  readonly position: number;
  readonly eventId: string;
  readonly recordedAtMs: number;
}

export interface ProjectorOptions {
  readonly store: EventStore;
  readonly tenantId: string;
  readonly projections: readonly ReadModel[];
  /** Told when one read model has taken in an event (the CLI's --trace times each). */
  readonly onProjected?: (projection: ReadModel, recorded: RecordedEvent) => void;
  /** Told of every event after all read models took it in (the CLI's watch). */
  readonly onApplied?: (recorded: RecordedEvent) => void;
  /** Told of each parked event once, the restored ones when the projector starts. */
  readonly onParked?: (parked: ParkedEvent) => void;
  /** Told once when a read model stops on an event it failed on, so that nobody has to ask to hear of it. */
  readonly onReadModelStopped?: (stopped: ReadModelStoppedError) => void;
  /** The events parked before the read models' checkpoints, restored with them. */
  readonly parked?: readonly ParkedEvent[];
  /**
   * Where to stop, for a read model "as it stood then": the projector takes the log up to the
   * first event this refuses and then stops, as if that were the end of the log.
   */
  readonly until?: (recorded: RecordedEvent) => boolean;
  /**
   * The lowest checkpoint of read models restored from their saves (read-side/checkpoint.ts
   * has checked that each names an event of this log): the projector follows on from the
   * next position, and a read model saved further on skips the events it already holds.
   */
  readonly resumeAfter?: Checkpoint;
}

export class Projector {
  /** The last event the read models took in; its position is theirs. */
  private last: { readonly globalPosition: number; readonly eventId: string; readonly recordedAtMs: number } | undefined;
  private applied = 0;
  private readonly takenIn = new Map<ReadModel, number>();
  private parkedEvents: ParkedEvent[];
  private readonly stoppedModels = new Map<ReadModel, ReadModelStoppedError>();
  private readonly waiters = new Waiters(() => this.position);
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private failure: ProjectorStoppedError | undefined;
  private held: Promise<void> | undefined;
  private release: () => void = () => {};
  private markCaughtUp: () => void = () => {};
  private failCaughtUp: (error: Error) => void = () => {};
  private markFailed: (error: Error) => void = () => {};
  /** Settles once the read models have taken in the whole log as it stood at start. */
  readonly caughtUp: Promise<void> = new Promise((resolve, reject) => {
    this.markCaughtUp = resolve;
    this.failCaughtUp = reject;
  });
  /** Rejects with a ProjectorStoppedError if the projector can no longer follow the log. */
  readonly failed: Promise<never> = new Promise((_, reject) => {
    this.markFailed = reject;
  });

  constructor(private readonly options: ProjectorOptions) {
    const resumeAfter = options.resumeAfter;
    if (resumeAfter !== undefined) this.last = { globalPosition: resumeAfter.position, eventId: resumeAfter.eventId, recordedAtMs: resumeAfter.recordedAtMs };
    this.parkedEvents = mergeParked(options.parked ?? []);
    // A failure also reaches waitFor and throwIfFailed; nobody has to listen to these.
    this.caughtUp.catch(() => {});
    this.failed.catch(() => {});
  }

  start(): void {
    if (this.running !== undefined) return;
    for (const parked of this.parkedEvents) this.options.onParked?.(parked);
    this.running = this.follow(this.position + 1);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async follow(fromPosition: number): Promise<void> {
    const { store, tenantId, until, onApplied } = this.options;
    try {
      for await (const message of store.subscribe({ tenantId, fromPosition, signal: this.stopping.signal })) {
        if (message.kind === 'caught-up') {
          this.markCaughtUp();
          continue;
        }
        const recorded = message.event;
        if (this.held !== undefined) await this.held;
        if (until?.(recorded) === false) {
          this.markCaughtUp();
          return;
        }
        if (isBankAccountEvent(recorded)) this.feed(recorded);
        this.last = recorded;
        this.applied++;
        onApplied?.(recorded);
        this.waiters.reached(recorded.globalPosition);
      }
      if (!this.stopping.signal.aborted) this.fail(new Error('the event store ended the subscription'));
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** One event to every read model still running, unless it is parked. */
  private feed(recorded: RecordedEvent): void {
    const decoded = decodeOrPark(recorded);
    if ('parked' in decoded) return this.park(decoded.parked);
    const { globalPosition, version, recordedAtMs } = recorded;
    const projected = { event: decoded.event, globalPosition, version, recordedAtMs };
    for (const projection of this.options.projections) {
      if (projection.position >= globalPosition) continue; // saved further on, it holds this event already
      if (this.stoppedModels.has(projection)) continue;
      try {
        projection.apply(projected);
      } catch (error) {
        // Its state may be half-changed: it answers no more queries, and is not saved.
        const why = error instanceof Error ? error.message : String(error);
        const stopped = new ReadModelStoppedError(`${projection.name} stopped at the event at position ${globalPosition} (${recorded.eventType} in ${recorded.stream.aggregateId}): ${why}`, { cause: error });
        this.stoppedModels.set(projection, stopped);
        this.options.onReadModelStopped?.(stopped);
        continue;
      }
      this.takenIn.set(projection, (this.takenIn.get(projection) ?? 0) + 1);
      this.options.onProjected?.(projection, recorded);
    }
  }

  private park(parked: ParkedEvent): void {
    if (this.parkedEvents.some((known) => known.position === parked.position)) return;
    this.parkedEvents.push(parked);
    this.options.onParked?.(parked);
  }

  /**
   * Holds the read models back until the returned function is called: new events wait in
   * the subscription meanwhile, as behind a busy or distant projector. The walkthrough uses
   * it to show a query answered before the read side has caught up.
   */
  hold(): () => void {
    if (this.held === undefined) this.held = new Promise((resolve) => (this.release = resolve));
    return () => {
      this.held = undefined;
      this.release();
    };
  }

  // ---- where the read models stand, and waiting for them ------------------------------

  /** The global position of the last event the read models have seen; 0 before any. */
  get position(): number {
    return this.last?.globalPosition ?? 0;
  }

  /** The position with the id of the event there, to save with the read models; none before any event. */
  get checkpoint(): Checkpoint | undefined {
    return this.last === undefined ? undefined : { position: this.last.globalPosition, eventId: this.last.eventId, recordedAtMs: this.last.recordedAtMs };
  }

  /** The events the read models skipped, restored and new, in log order. */
  get parked(): readonly ParkedEvent[] {
    return this.parkedEvents;
  }

  /** Why a read model stopped, if it did. */
  stoppedModel(projection: ReadModel): ReadModelStoppedError | undefined {
    return this.stoppedModels.get(projection);
  }

  /** How many events this projector has taken in since it started (a resumed one counts from its checkpoint). */
  get eventsApplied(): number {
    return this.applied;
  }

  /** How many events one read model has taken in since the start: fewer than eventsApplied if it resumed further on. */
  eventsTakenIn(projection: ReadModel): number {
    return this.takenIn.get(projection) ?? 0;
  }

  /**
   * Resolves once the read models reflect `position`: how a caller reads its own writes
   * on an eventually consistent read side. Rejects if the projector stops, or makes no
   * progress for `stallTimeoutMs`; a long catch-up that keeps moving is not a stall.
   */
  waitFor(position: number, stallTimeoutMs = 5_000): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.position >= position) return Promise.resolve();
    return this.waiters.waitFor(position, stallTimeoutMs);
  }

  /** Read models of a stopped projector are frozen: answering from them would mislead. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** So is a read model stopped alone; needReadModels asks this before any query. */
  throwIfStopped(...projections: ReadModel[]): void {
    for (const projection of projections) {
      const stopped = this.stoppedModels.get(projection);
      if (stopped !== undefined) throw stopped;
    }
  }

  private fail(error: Error): void {
    this.failure = new ProjectorStoppedError(`the projector stopped: ${error.message}`, { cause: error });
    this.failCaughtUp(this.failure);
    this.markFailed(this.failure);
    this.waiters.failAll(this.failure);
  }
}
