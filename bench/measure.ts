// Bench support: how long each row runs, how a rate and a latency are taken, and the
// progress lines on stderr. Rows are bounded by time, not by count, so a slow store makes
// a row less precise rather than the whole run longer.

import { performance } from 'node:perf_hooks';

/** Sizes, from the environment so a development run can be short. */
export const SIZES = {
  /** Measured seconds per throughput or latency row (a short warm-up comes on top). */
  seconds: envNumber('BENCH_SECONDS', 2),
  /** Events in the logs that catch-up and the CLI summary read. */
  catchUpEvents: envNumber('BENCH_EVENTS', 200_000),
  /** Small events appended one per call to the memory backend whose bytes per event are measured... */
  memoryEvents: envNumber('BENCH_MEMORY_EVENTS', 200_000),
  /** ...or as many as fit in this many seconds, if fewer: on a busy machine 200 000 calls take minutes. */
  memorySeconds: envNumber('BENCH_MEMORY_SECONDS', 25),
  /** Turns each row and its floor take, alternating, within their seconds. */
  rounds: Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 2))),
  /** Events per stream in the two in-process command rows. */
  shortStream: envNumber('BENCH_SHORT_STREAM', 20),
  longStream: envNumber('BENCH_LONG_STREAM', 2_000),
};

export function envNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

const startedAt = performance.now();

/** A progress line on stderr, so stdout holds only the report. */
export function progress(line: string): void {
  const elapsed = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${elapsed}s] ${line}\n`);
}

export interface Rate {
  /** Operations completed per second (of the wall clock, or of CPU time) within the measured windows. */
  readonly perSecond: number;
  readonly completed: number;
  /** The seconds `perSecond` divides by. */
  readonly measuredSeconds: number;
  /** Milliseconds of each operation completed in a window, sorted ascending. */
  readonly latenciesMs: readonly number[];
  /** The measured windows on performance.now()'s clock, for rows that time something else too. */
  readonly windows: ReadonlyArray<{ readonly start: number; readonly end: number }>;
}

/** Something to measure: `inFlight` loops each running `op` one call after another. */
export interface Slot {
  readonly name: string;
  readonly inFlight: number;
  /** One operation; `worker` is 0..inFlight-1, so a worker can own its streams. */
  readonly op: (worker: number) => Promise<unknown>;
}

export interface RateOptions {
  readonly seconds?: number;
  /** Unmeasured time first, for JIT, connections and caches; default a quarter of `seconds`, at most 0.5 s. */
  readonly warmupSeconds?: number;
  /**
   * 'cpu': per second of this process's CPU time rather than of the wall clock, for work
   * that never waits on another process: other processes' load then barely moves it.
   */
  readonly clock?: 'wall' | 'cpu';
}

/**
 * Runs the slot's loops and counts the calls that complete inside the measured window.
 * Each loop checks the clock itself: an in-process store may resolve without ever
 * yielding to timers, so a setTimeout deadline could never fire.
 */
export async function measureRate(slot: Omit<Slot, 'name'>, options: RateOptions = {}): Promise<Rate> {
  const seconds = options.seconds ?? SIZES.seconds;
  const warmup = options.warmupSeconds ?? Math.min(0.5, seconds / 4);
  const start = performance.now() + warmup * 1000;
  const end = start + seconds * 1000;
  const latenciesMs: number[] = [];
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  const worker = async (index: number): Promise<void> => {
    for (;;) {
      const began = performance.now();
      if (began >= end) return;
      if (began >= start) cpuAtStart ??= process.cpuUsage();
      await slot.op(index);
      const ended = performance.now();
      if (ended >= start && ended < end) latenciesMs.push(ended - began);
    }
  };
  await Promise.all(Array.from({ length: slot.inFlight }, (_, index) => worker(index)));
  const cpu = process.cpuUsage(cpuAtStart);
  latenciesMs.sort((a, b) => a - b);
  const measuredSeconds = options.clock === 'cpu' ? (cpu.user + cpu.system) / 1e6 : seconds;
  return { perSecond: latenciesMs.length / measuredSeconds, completed: latenciesMs.length, measuredSeconds, latenciesMs, windows: [{ start, end }] };
}

/**
 * Measures a row and its floor (or rows compared with each other) in turns, `rounds` slices
 * each, so that all of them see the same load on a noisy machine and their ratio holds
 * even when the absolute numbers swing. Each slice warms up briefly before it counts.
 */
export async function measureInterleaved(slots: readonly Slot[], seconds = SIZES.seconds): Promise<Rate[]> {
  const slice = seconds / SIZES.rounds;
  progress(`measuring in turns, ${SIZES.rounds} × ${slice.toFixed(2)} s each: ${slots.map((slot) => slot.name).join(' | ')}`);
  const parts: Rate[][] = slots.map(() => []);
  for (let round = 0; round < SIZES.rounds; round++) {
    for (const [index, slot] of slots.entries()) {
      const warmupSeconds = round === 0 ? Math.min(0.5, seconds / 4) : Math.min(0.2, slice / 4);
      parts[index]?.push(await measureRate(slot, { seconds: slice, warmupSeconds }));
    }
  }
  return parts.map((rates) => {
    const completed = rates.reduce((sum, rate) => sum + rate.completed, 0);
    return {
      perSecond: completed / seconds,
      completed,
      measuredSeconds: seconds,
      latenciesMs: rates.flatMap((rate) => rate.latenciesMs).sort((a, b) => a - b),
      windows: rates.flatMap((rate) => rate.windows),
    };
  });
}

/** The q-quantile (0..1) of values sorted ascending; NaN when there are none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Wall time of one awaited piece of work, in milliseconds. */
export async function timeMs<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const began = performance.now();
  const result = await work();
  return { ms: performance.now() - began, result };
}

/** Runs `work` on every item with at most `limit` at once, in order of the items. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
