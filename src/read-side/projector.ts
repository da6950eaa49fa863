// Read side: the projector follows the event log and feeds every read model, in global
// order, from the position the read models reflect. It is the only bridge from the write
// side to the read side, and it goes through the event store, never around it.

import type { EventStore, RecordedEvent } from '../event-store/event-store.ts';
import { decode, isBankAccountEvent } from '../domain/bank-account-codec.ts';
import type { Projection } from './projection.ts';

export class ProjectionTimeoutError extends Error {}

/** The projector can follow the log no longer; `cause` says why (often the store's error). */
export class ProjectorStoppedError extends Error {}

interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export interface ProjectorOptions {
  readonly store: EventStore;
  readonly tenantId: string;
  readonly projections: readonly Projection[];
  /** Told when one read model has taken in an event (the CLI's --trace times each). */
  readonly onProjected?: (projection: Projection, recorded: RecordedEvent) => void;
  /** Told of every event after all read models took it in (the CLI's watch). */
  readonly onApplied?: (recorded: RecordedEvent) => void;
  /**
   * Where to stop, for a read model "as it stood then": the projector takes the log up to the
   * first event this refuses and then stops, as if that were the end of the log.
   */
  readonly until?: (recorded: RecordedEvent) => boolean;
}

export class Projector {
  private positionSeen = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private failure: ProjectorStoppedError | undefined;
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
    // A failure also reaches waitFor and throwIfFailed; nobody has to listen to these.
    this.caughtUp.catch(() => {});
    this.failed.catch(() => {});
  }

  /** The global position of the last event the read models have seen. */
  get position(): number {
    return this.positionSeen;
  }

  start(): void {
    if (this.running !== undefined) return;
    const fromPosition = Math.min(...this.options.projections.map((projection) => projection.position)) + 1;
    this.positionSeen = fromPosition - 1;
    this.running = this.follow(fromPosition);
  }

  /**
   * Resolves once the read models reflect `position`: how a caller reads its own writes
   * on an eventually consistent read side. Rejects if the projector stops, or makes no
   * progress for `stallTimeoutMs`; a long catch-up that keeps moving is not a stall.
   */
  waitFor(position: number, stallTimeoutMs = 5_000): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.positionSeen >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const watch = (positionThen: number): void => {
        timer = setTimeout(() => {
          if (this.positionSeen > positionThen) return watch(this.positionSeen);
          this.waiters.delete(waiter);
          reject(new ProjectionTimeoutError(
            `the read models made no progress towards position ${position} for ${stallTimeoutMs} ms (they are at ${this.positionSeen})`,
          ));
        }, stallTimeoutMs);
      };
      watch(this.positionSeen);
      const waiter: Waiter = {
        position,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.waiters.add(waiter);
    });
  }

  /** Read models of a stopped projector are frozen: answering from them would mislead. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async follow(fromPosition: number): Promise<void> {
    const { store, tenantId, projections } = this.options;
    try {
      for await (const message of store.subscribe({ tenantId, fromPosition, signal: this.stopping.signal })) {
        if (message.kind === 'caught-up') {
          this.markCaughtUp();
          continue;
        }
        const recorded = message.event;
        if (this.options.until?.(recorded) === false) {
          this.markCaughtUp();
          return;
        }
        if (isBankAccountEvent(recorded)) {
          const projected = {
            event: decode(recorded),
            globalPosition: recorded.globalPosition,
            version: recorded.version,
            recordedAt: new Date(recorded.recordedAtMs).toISOString(),
          };
          for (const projection of projections) {
            if (projection.position >= recorded.globalPosition) continue;
            projection.apply(projected);
            this.options.onProjected?.(projection, recorded);
          }
        }
        this.positionSeen = recorded.globalPosition;
        this.options.onApplied?.(recorded);
        this.settleWaiters();
      }
      if (!this.stopping.signal.aborted) this.fail(new Error('the event store ended the subscription'));
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private settleWaiters(): void {
    for (const waiter of this.waiters) {
      if (waiter.position <= this.positionSeen) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  private fail(error: Error): void {
    this.failure = new ProjectorStoppedError(`the projector stopped: ${error.message}`, { cause: error });
    this.failCaughtUp(this.failure);
    this.markFailed(this.failure);
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.waiters.clear();
  }
}
