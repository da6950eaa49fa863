// `pnpm soak`: minutes of mixed load on the event store server, as an operator would try it
// before exposing it: writers, readers, subscribers, subscription churn, large events and
// requests past the limits, with throughput, errors and the server's RSS printed every few
// seconds. Ends by itself. Not a test and not in CI: it takes minutes.
//
//   pnpm soak [--backend memory|postgres] [--duration 2m] [--every 5s] [--writers 8]
//
// PostgreSQL needs DATABASE_URL; the run gets a fresh schema, dropped at the end. Exit code
// 0 when every refusal was the expected one and every subscriber received every event.

import { readFileSync } from 'node:fs';
import { newId } from '../src/ids.ts';
import type { EventStore } from '../src/event-store/event-store.ts';
import { readWholeStream } from '../src/event-store/event-store.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { pause } from '../src/event-store/grpc/resuming-subscription.ts';
import { DEFAULT_LIMITS } from '../src/event-store/limits.ts';
import { startEventStoreServer, stopAllChildren } from './children.ts';
import type { ListeningChild } from './children.ts';
import { DATABASE_URL, dropSchemas, freshSchema } from './postgres.ts';
import { depositAppend } from './workload.ts';

interface SoakOptions {
  readonly backend: 'memory' | 'postgres';
  readonly durationMs: number;
  readonly everyMs: number;
  readonly writers: number;
}

/** What the load did since the start; the printer takes differences between two looks. */
class Counters {
  readonly counts = new Map<string, number>();
  readonly errors = new Map<string, number>();
  add(name: string, by = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
  }
  error(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
}

const TENANT = `soak-${Date.now()}`;

async function main(options: SoakOptions): Promise<number> {
  const env: Record<string, string> = { BACKEND: options.backend };
  if (options.backend === 'postgres') {
    if (DATABASE_URL === undefined) throw new Error('--backend postgres needs DATABASE_URL');
    env['PG_SCHEMA'] = freshSchema('soak');
  }
  const server = await startEventStoreServer(env);
  const store = await GrpcEventStore.connect({ address: server.address });
  const counters = new Counters();
  const stop = new AbortController();
  const loads = [
    ...Array.from({ length: options.writers }, (_, index) => writer(store, `account-${index}`, counters, stop.signal)),
    largeWriter(store, counters, stop.signal),
    ...Array.from({ length: 2 }, () => reader(store, options.writers, counters, stop.signal)),
    churner(store, counters, stop.signal),
    refusals(store, counters, stop.signal),
  ];
  const subscribers = Array.from({ length: 3 }, (_, index) => subscriber(store, `subscriber ${index + 1}`, counters));
  console.log(`soak: ${options.backend} backend at ${server.address}, ${options.durationMs / 1000} s, a line every ${options.everyMs / 1000} s`);

  const started = Date.now();
  let last = new Map(counters.counts);
  let peakRssMb = 0;
  while (Date.now() - started < options.durationMs) {
    await pause(Math.min(options.everyMs, options.durationMs - (Date.now() - started)));
    const rssMb = rssOf(server);
    peakRssMb = Math.max(peakRssMb, rssMb ?? 0);
    const rate = (name: string): string => {
      const perSecond = ((counters.get(name) - (last.get(name) ?? 0)) * 1000) / options.everyMs;
      return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`;
    };
    const errors = counters.errors.size === 0 ? 'none' : JSON.stringify(Object.fromEntries(counters.errors));
    console.log(`${Math.round((Date.now() - started) / 1000)}s appends ${rate('appended')} large ${rate('large')} reads ${rate('read')} delivered ${rate('delivered')} churn ${rate('churned')} refused ${rate('refused')} | errors ${errors} | server RSS ${rssMb === undefined ? 'n/a' : `${rssMb} MB`}`);
    last = new Map(counters.counts);
  }

  stop.abort();
  await Promise.all(loads);
  // Every subscriber must come to hold every event the writers had acknowledged.
  const appended = counters.get('appended') + counters.get('large');
  const received = await Promise.all(subscribers.map((follow) => follow.until(appended)));
  await store.close();
  await server.stop();
  if (options.backend === 'postgres' && DATABASE_URL !== undefined) await dropSchemas(DATABASE_URL);

  const missing = received.filter((count) => count !== appended);
  console.log(`soak done: ${appended} events appended, subscribers received ${received.join(', ')}; peak server RSS ${peakRssMb} MB; errors ${JSON.stringify(Object.fromEntries(counters.errors))}`);
  return counters.errors.size === 0 && missing.length === 0 ? 0 : 1;
}

// ---- the load -------------------------------------------------------------------------

async function writer(store: EventStore, accountId: string, counters: Counters, signal: AbortSignal): Promise<void> {
  for (let version = 0; !signal.aborted; ) {
    try {
      await store.append(depositAppend({ tenantId: TENANT, accountId, expectedVersion: version }));
      version++;
      counters.add('appended');
    } catch (error) {
      counters.error(`append: ${describe(error)}`);
      version = (await readWholeStream(store, { tenantId: TENANT, aggregateId: accountId }).catch(() => [])).length;
    }
  }
}

/** An event of a quarter MiB a second: pages and subscription batches cut by bytes. */
async function largeWriter(store: EventStore, counters: Counters, signal: AbortSignal): Promise<void> {
  const payload = Buffer.alloc(256 * 1024, 'l');
  for (let version = 0; !signal.aborted; version++) {
    const event = { eventId: newId(), eventType: 'Large', eventVersion: 1, contentType: 'application/octet-stream', payload };
    await store.append({ tenantId: TENANT, stream: { aggregateType: 'Large', aggregateId: 'large-1' }, expectedVersion: version, idempotencyKey: event.eventId, events: [event] })
      .then(() => counters.add('large'), (error: unknown) => counters.error(`large append: ${describe(error)}`));
    await pause(1_000, signal);
  }
}

async function reader(store: EventStore, writers: number, counters: Counters, signal: AbortSignal): Promise<void> {
  for (let round = 0; !signal.aborted; round++) {
    const aggregateId = round % 10 === 0 ? 'large-1' : `account-${round % writers}`;
    await readWholeStream(store, { tenantId: TENANT, aggregateId }).then(() => counters.add('read'), (error: unknown) => counters.error(`read: ${describe(error)}`));
  }
}

/** Subscribes to tenants nobody writes to, waits for caught-up and leaves: churn the server must not keep. */
async function churner(store: EventStore, counters: Counters, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const controller = new AbortController();
    try {
      for await (const message of store.subscribe({ tenantId: `nobody-${newId()}`, fromPosition: 0, signal: controller.signal })) {
        if (message.kind === 'caught-up') break;
      }
      counters.add('churned');
    } catch (error) {
      counters.error(`churn: ${describe(error)}`);
    } finally {
      controller.abort();
    }
  }
}

/** Requests past the limits, which must be refused by name and leave nothing behind. */
async function refusals(store: EventStore, counters: Counters, signal: AbortSignal): Promise<void> {
  const tooLong = 'x'.repeat(DEFAULT_LIMITS.textBytes + 1);
  const event = (): { eventId: string; eventType: string; eventVersion: number; contentType: string; payload: Buffer } =>
    ({ eventId: newId(), eventType: 'Refused', eventVersion: 1, contentType: '', payload: Buffer.alloc(8) });
  const attempts = [
    { limit: 'EVENT_STORE_MAX_TEXT_BYTES', append: () => store.append({ tenantId: TENANT, stream: { aggregateType: 'R', aggregateId: tooLong }, expectedVersion: 0, events: [event()] }) },
    { limit: 'EVENT_STORE_MAX_HEADERS', append: () => store.append({ tenantId: TENANT, stream: { aggregateType: 'R', aggregateId: 'refused' }, expectedVersion: 0, events: [{ ...event(), headers: Object.fromEntries(Array.from({ length: DEFAULT_LIMITS.headersPerEvent + 1 }, (_, i) => [`h${i}`, 'v'])) }] }) },
    { limit: 'EVENT_STORE_MAX_PAYLOAD_BYTES', append: () => store.append({ tenantId: TENANT, stream: { aggregateType: 'R', aggregateId: 'refused' }, expectedVersion: 0, events: [{ ...event(), payload: Buffer.alloc(DEFAULT_LIMITS.payloadBytes + 1) }] }) },
  ];
  for (let round = 0; !signal.aborted; round++) {
    const attempt = attempts[round % attempts.length];
    if (attempt === undefined) continue;
    try {
      await attempt.append();
      counters.error(`accepted past ${attempt.limit}`);
    } catch (error) {
      if (String(error).includes(attempt.limit)) counters.add('refused');
      else counters.error(`refused past ${attempt.limit} without naming it: ${describe(error)}`);
    }
    await pause(100, signal);
  }
}

/** Follows the tenant from the start for the whole run; `until` waits for it to hold `count` events. */
function subscriber(store: EventStore, name: string, counters: Counters): { until: (count: number) => Promise<number> } {
  const controller = new AbortController();
  let received = 0;
  const following = (async () => {
    try {
      for await (const message of store.subscribe({ tenantId: TENANT, fromPosition: 0, signal: controller.signal })) {
        if (message.kind !== 'event') continue;
        received++;
        counters.add('delivered');
      }
    } catch (error) {
      counters.error(`${name}: ${describe(error)}`);
    }
  })();
  return {
    until: async (count) => {
      const deadline = Date.now() + 60_000;
      while (received < count && Date.now() < deadline) await pause(100);
      controller.abort();
      await following;
      return received;
    },
  };
}

// ---- plumbing -------------------------------------------------------------------------

/** The kind of a failure, so a line of errors stays short: the error's class and its first words. */
function describe(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name : 'non-error';
  const words = error instanceof Error ? error.message.split(/[:;(]/)[0]?.slice(0, 60) : String(error).slice(0, 60);
  return `${name}: ${words ?? ''}`;
}

/** The server's resident memory in MB, from /proc (Linux); undefined elsewhere. */
function rssOf(server: ListeningChild): number | undefined {
  try {
    const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'));
    return line?.[1] === undefined ? undefined : Math.round(Number(line[1]) / 1024);
  } catch {
    return undefined;
  }
}

function parseOptions(args: readonly string[]): SoakOptions {
  const value = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at === -1 ? undefined : args[at + 1];
  };
  const backend = value('--backend') ?? process.env['BACKEND'] ?? 'memory';
  if (backend !== 'memory' && backend !== 'postgres') throw new Error(`--backend must be memory or postgres, got ${backend}`);
  const writers = Number(value('--writers') ?? 8);
  if (!Number.isSafeInteger(writers) || writers < 1) throw new Error('--writers must be a whole number from 1 up');
  return { backend, durationMs: duration(value('--duration') ?? '2m'), everyMs: duration(value('--every') ?? '5s'), writers };
}

/** `90s`, `2m`, `1500ms` or a number of seconds. */
function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (match?.[1] === undefined) throw new Error(`not a duration: ${text} (e.g. 90s, 2m)`);
  const unit = { ms: 1, s: 1_000, m: 60_000 }[match[2] ?? 's'] ?? 1_000;
  return Number(match[1]) * unit;
}

try {
  process.exitCode = await main(parseOptions(process.argv.slice(2)));
} catch (error) {
  console.error(`soak: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
} finally {
  await stopAllChildren();
}
