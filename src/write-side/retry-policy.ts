// Write side: how long a command waits before deciding again after losing a race. Random
// and growing, so writers that collided do not collide again in step.

export interface RetryPolicy {
  /** Attempts in all, the first included, before a conflict is given up on. */
  readonly maxAttempts: number;
  /** The jitter before attempt n is random in [0, baseDelayMs * 2^(n-2)], capped at maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 20, baseDelayMs: 2, maxDelayMs: 100 };

/** Waits the jitter before attempt `attempt` (2 for the first retry). */
export function backOff(retry: RetryPolicy, attempt: number): Promise<void> {
  const ceiling = Math.min(retry.baseDelayMs * 2 ** (attempt - 2), retry.maxDelayMs);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}
