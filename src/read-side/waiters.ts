// Read side: how a caller waits for the read models to reach a log position (reading its
// own write), and how a stalled projector is told from a slow one. One timer serves every
// waiter, and the projector pays nothing per event while nobody waits.

import { performance } from 'node:perf_hooks';

export class ProjectionTimeoutError extends Error {}

interface Waiter {
  readonly position: number;
  readonly stallTimeoutMs: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Where the read models stood at this waiter's last check. */
  positionThen: number;
  checkAtMs: number;
}

export class Waiters {
  private readonly waiting = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;

  /** `positionNow` says where the read models stand; the stall checks compare it over time. */
  constructor(private readonly positionNow: () => number) {}

  /**
   * Resolves once `reached` is told of `position`. Rejects with a ProjectionTimeoutError if
   * the read models move no further for `stallTimeoutMs`; a long catch-up that keeps moving
   * is not a stall.
   */
  waitFor(position: number, stallTimeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const checkAtMs = performance.now() + stallTimeoutMs;
      this.waiting.add({ position, stallTimeoutMs, resolve, reject, positionThen: this.positionNow(), checkAtMs });
      this.checkAt(checkAtMs);
    });
  }

  /** The read models reached `position`: release everyone who waited for it or less. */
  reached(position: number): void {
    if (this.waiting.size === 0) return;
    for (const waiter of this.waiting) {
      if (waiter.position > position) continue;
      this.waiting.delete(waiter);
      waiter.resolve();
    }
    if (this.waiting.size === 0) this.clearTimer();
  }

  failAll(error: Error): void {
    for (const waiter of this.waiting) waiter.reject(error);
    this.waiting.clear();
    this.clearTimer();
  }

  /** Each waiter due a check either saw progress since its last one and waits on, or stalled. */
  private check(): void {
    this.clearTimer();
    const now = performance.now();
    const position = this.positionNow();
    for (const waiter of this.waiting) {
      if (waiter.checkAtMs > now) continue;
      if (position > waiter.positionThen) {
        waiter.positionThen = position;
        waiter.checkAtMs = now + waiter.stallTimeoutMs;
        continue;
      }
      this.waiting.delete(waiter);
      waiter.reject(new ProjectionTimeoutError(
        `the read models made no progress towards position ${waiter.position} for ${waiter.stallTimeoutMs} ms (they are at ${position})`,
      ));
    }
    for (const waiter of this.waiting) this.checkAt(waiter.checkAtMs);
  }

  /** Sets the one timer for `atMs` unless it already goes off sooner. */
  private checkAt(atMs: number): void {
    if (atMs >= this.timerAtMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => this.check(), Math.max(0, atMs - performance.now()));
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
  }
}
