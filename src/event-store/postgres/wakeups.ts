// How a live subscription learns there is something new to read: a commit in this process,
// a notification from another, or, failing both, a slow timer. Subscriptions read the
// events from the table themselves; a wake-up only says "look again".

/** One subscription's doorbell. A ring while nobody waits is kept, so none is lost. */
export class Doorbell {
  private rung = false;
  private answer: (() => void) | undefined;

  readonly ring = (): void => {
    this.rung = true;
    this.answer?.();
  };

  /** Forget earlier rings: called just before reading, which sees everything up to now. */
  reset(): void {
    this.rung = false;
  }

  /** Resolves at the next ring (or at once if one came since `reset`), the timeout or the abort. */
  wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.rung || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.answer = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.answer = done;
    });
  }
}

/** The doorbells of every open subscription in this process, by tenant. */
export class Wakeups {
  private readonly byTenant = new Map<string, Set<() => void>>();

  add(tenantId: string, ring: () => void): () => void {
    let rings = this.byTenant.get(tenantId);
    if (rings === undefined) {
      rings = new Set();
      this.byTenant.set(tenantId, rings);
    }
    rings.add(ring);
    return () => {
      rings.delete(ring);
      if (rings.size === 0 && this.byTenant.get(tenantId) === rings) this.byTenant.delete(tenantId);
    };
  }

  wake(tenantId: string): void {
    for (const ring of this.byTenant.get(tenantId) ?? []) ring();
  }

  wakeAll(): void {
    for (const rings of this.byTenant.values()) for (const ring of rings) ring();
  }
}
