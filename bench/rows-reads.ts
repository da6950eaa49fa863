// Bench rows for the read side: a live subscriber's delay after an append, and catching up
// on a long log over gRPC (the PostgreSQL catch-up rows reuse catchUpRate).

import { performance } from 'node:perf_hooks';
import { newId } from '../src/ids.ts';
import type { EventStore } from '../src/event-store/event-store.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import type { Floors } from './floors.ts';
import { forEachLimited, measureInterleaved, progress, quantile, SIZES, timeMs } from './measure.ts';
import type { Slot } from './measure.ts';
import type { Report } from './report.ts';
import { depositAppend, fillAccount } from './workload.ts';

/** Append through one client, time until another client's live subscription yields the event. */
export async function liveLatencyRows(report: Report, address: string, floors: Floors): Promise<void> {
  progress('gRPC → memory: live latency, append to arrival at another client\'s subscription');
  const { delaysMs, floorLatenciesMs: [echoMs = []] } = await liveDelays({ writerAddress: address, readerAddress: address, floors: [floors.echo(1)] });
  report.figure({
    key: 'live_latency_p50',
    label: 'live latency p50 (append → other subscriber)',
    value: quantile(delaysMs, 0.5),
    unit: 'ms',
    floor: { label: 'echo p50', value: quantile(echoMs, 0.5) },
  });
  report.figure({
    key: 'live_latency_p99',
    label: 'live latency p99 (append → other subscriber)',
    value: quantile(delaysMs, 0.99),
    unit: 'ms',
    floor: { label: 'echo p99', value: quantile(echoMs, 0.99) },
    target: { on: 'ratio', op: '<=', bound: 1.5 },
  });
}

/**
 * Appends one event at a time through a client of `writerAddress` and times each until a
 * live subscription through `readerAddress` (the same server or another) yields it; the
 * floors take turns with it. Sorted delays inside the measured windows, and each floor's
 * latencies.
 */
export async function liveDelays(setup: { writerAddress: string; readerAddress: string; floors: readonly Slot[] }): Promise<{ delaysMs: number[]; floorLatenciesMs: Array<readonly number[]> }> {
  const writer = await GrpcEventStore.connect({ address: setup.writerAddress });
  const reader = await GrpcEventStore.connect({ address: setup.readerAddress });
  const stop = new AbortController();
  try {
    const tenantId = `bench-${newId()}`;
    const arrivals = new Map<string, (atMs: number) => void>();
    let caughtUp: () => void = () => {};
    const live = new Promise<void>((resolve) => (caughtUp = resolve));
    const following = (async () => {
      for await (const message of reader.subscribe({ tenantId, fromPosition: 0, signal: stop.signal })) {
        if (message.kind === 'caught-up') caughtUp();
        else arrivals.get(message.event.eventId)?.(performance.now());
      }
    })();
    // Should the subscription fail, the row fails by its 10 s timeout below, not by a crash.
    following.catch(() => {});
    await live;
    const delays: Array<{ arrivedAt: number; ms: number }> = [];
    let version = 0;
    const appendAndWait: Slot = {
      name: 'append → arrival',
      inFlight: 1,
      op: async () => {
        const request = depositAppend({ tenantId, accountId: 'live', expectedVersion: version++ });
        const eventId = request.events[0]?.eventId ?? '';
        const arrived = new Promise<number>((resolve, reject) => {
          const lost = setTimeout(() => reject(new Error(`event ${eventId} did not reach the live subscriber within 10 s`)), 10_000);
          arrivals.set(eventId, (atMs) => (clearTimeout(lost), resolve(atMs)));
        });
        arrived.catch(() => {}); // awaited below, after the append
        const began = performance.now();
        await writer.append(request);
        const arrivedAt = await arrived;
        delays.push({ arrivedAt, ms: arrivedAt - began });
        arrivals.delete(eventId);
      },
    };
    const rates = await measureInterleaved([...setup.floors, appendAndWait]);
    const windows = rates.at(-1)?.windows ?? [];
    const inWindow = (at: number): boolean => windows.some((w) => at >= w.start && at < w.end);
    const delaysMs = delays.filter((d) => inWindow(d.arrivedAt)).map((d) => d.ms).sort((a, b) => a - b);
    stop.abort();
    await following;
    return { delaysMs, floorLatenciesMs: rates.slice(0, -1).map((rate) => rate.latenciesMs) };
  } finally {
    stop.abort();
    await writer.close();
    await reader.close();
  }
}

/**
 * Fills a fresh tenant with `count` events in streams of 1000, one append per stream, a
 * few appends at a time: far quicker than commands, and the reading is what is measured.
 * Resolves with the tenant and one of its account ids.
 */
export async function fillLongLog(store: EventStore, count: number): Promise<{ tenantId: string; accountId: string; appendPerS: number }> {
  const tenantId = `bench-long-${newId()}`;
  const streams = Array.from({ length: Math.ceil(count / 1000) }, (_, i) => ({ accountId: `long-${i}`, length: Math.min(1000, count - 1000 * i) }));
  const { ms } = await timeMs(() => forEachLimited(streams, 4, (stream) => fillAccount(store, tenantId, stream.accountId, stream.length)));
  return { tenantId, accountId: streams[0]?.accountId ?? '', appendPerS: (count / ms) * 1000 };
}

/** Subscribes from position 0 until caught up and counts the events: events per second. */
export async function catchUpRate(store: EventStore, tenantId: string, expected: number): Promise<number> {
  const stop = new AbortController();
  const { ms, result } = await timeMs(async () => {
    let events = 0;
    for await (const message of store.subscribe({ tenantId, fromPosition: 0, signal: stop.signal })) {
      if (message.kind === 'caught-up') break;
      events++;
    }
    stop.abort();
    return events;
  });
  if (result !== expected) throw new Error(`caught up on ${result} events, expected ${expected}`);
  return (result / ms) * 1000;
}

export async function memoryCatchUpRows(report: Report, address: string, floors: Floors): Promise<{ tenantId: string; accountId: string }> {
  const count = SIZES.catchUpEvents;
  const writer = await GrpcEventStore.connect({ address });
  try {
    progress(`gRPC → memory: filling a tenant with ${count} events in appends of up to 1000`);
    const filled = await fillLongLog(writer, count);
    report.note(`filling the memory backend over gRPC in appends of 1000 events ran at ${Math.round(filled.appendPerS)} events/s`);
    const streamPerS = await floors.stream();
    progress(`gRPC → memory: catch-up of ${count} events`);
    const reader = await GrpcEventStore.connect({ address });
    try {
      report.figure({
        key: 'grpc_memory_catchup',
        label: `gRPC → memory catch-up of ${count} events`,
        value: await catchUpRate(reader, filled.tenantId, count),
        unit: 'per_s',
        floor: { label: 'bare gRPC stream', value: streamPerS },
        target: { on: 'ratio', op: '>=', bound: 0.8 },
      });
    } finally {
      await reader.close();
    }
    return filled;
  } finally {
    await writer.close();
  }
}
