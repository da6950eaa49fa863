// `pnpm bench`: how fast the bank runs on each event store, measured in one run so the
// ratios between stores mean something on a noisy machine. Not a test: nothing fails here.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { BankAccountEvent } from '../src/domain/bank-account.ts';
import { accountStream, encode } from '../src/domain/bank-account-codec.ts';
import type { EventStore } from '../src/event-store/event-store.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../src/event-store/in-memory-event-store.ts';
import { PostgresEventStore } from '../src/event-store/postgres/postgres-event-store.ts';
import { buildServer } from '../src/server/build-server.ts';
import { rebuildReadSide, wireBank } from '../src/wire.ts';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 2_000);
const WRITERS = 8;
const REPLAY_EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);

interface Target {
  readonly name: string;
  readonly open: () => Promise<{ store: EventStore; close: () => Promise<void> }>;
}

const targets: Target[] = [
  { name: 'memory', open: async () => withClose(new InMemoryEventStore()) },
  { name: 'gRPC → memory', open: () => overGrpc(new InMemoryEventStore()) },
];
if (process.env.DATABASE_URL) {
  targets.push({ name: 'postgres', open: () => postgres(false) }, { name: 'gRPC → postgres', open: () => postgres(true) });
} else {
  console.log('DATABASE_URL is not set: the PostgreSQL rows are left out.');
}

const rows: Array<Record<string, string>> = [];
for (const target of targets) {
  process.stdout.write(`measuring ${target.name} ...\n`);
  const { store, close } = await target.open();
  try {
    rows.push({ store: target.name, ...(await measure(store)) });
  } finally {
    await close();
  }
}
console.table(rows);

async function measure(store: EventStore): Promise<Record<string, string>> {
  const tenantId = `bench-${randomUUID()}`;
  const bank = wireBank({ store, tenantId });
  try {
    const accounts = Array.from({ length: WRITERS }, (_, i) => `acc-${i}`);
    for (const accountId of accounts) {
      await bank.handle({ type: 'OpenAccount', data: { accountId, customerId: 'bench', accountType: 'Checking', initialBalanceCents: 0 } });
    }
    const lags: number[] = [];
    const started = performance.now();
    await Promise.all(accounts.map(async (accountId) => {
      for (let i = 0; i < COMMANDS / WRITERS; i++) {
        const outcome = await bank.handle({ type: 'DepositMoney', data: { accountId, transactionId: uuidv7(), amountCents: 100, description: 'bench' } });
        if (outcome.status !== 'accepted') throw new Error('a bench deposit was refused');
        const appended = performance.now();
        await bank.projector.waitFor(outcome.lastGlobalPosition);
        lags.push(performance.now() - appended);
      }
    }));
    const commandSeconds = (performance.now() - started) / 1000;

    await fill(store, tenantId, REPLAY_EVENTS);
    let replayedEvents = 0;
    const replayStarted = performance.now();
    await rebuildReadSide({ store, tenantId, onApplied: () => replayedEvents++ });
    const replaySeconds = (performance.now() - replayStarted) / 1000;
    lags.sort((a, b) => a - b);
    return {
      'commands/s': String(Math.round(COMMANDS / commandSeconds)),
      'read-your-write p50 ms': lags[Math.floor(lags.length / 2)]!.toFixed(2),
      'read-your-write p99 ms': lags[Math.floor(lags.length * 0.99)]!.toFixed(2),
      'replay events/s': String(Math.round(replayedEvents / replaySeconds)),
    };
  } finally {
    await bank.stop();
  }
}

/** Appends whole account histories in batches, bypassing the command handler. */
async function fill(store: EventStore, tenantId: string, count: number): Promise<void> {
  const perAccount = 100;
  for (let account = 0; account < count / perAccount; account++) {
    const accountId = `bulk-${account}`;
    const events: BankAccountEvent[] = [{ type: 'AccountOpened', data: { accountId, customerId: 'bulk', accountType: 'Savings', initialBalanceCents: 0 } }];
    for (let i = 1; i < perAccount; i++) {
      events.push({ type: 'MoneyDeposited', data: { accountId, transactionId: uuidv7(), amountCents: 1, description: 'bulk', balanceAfterCents: i } });
    }
    await store.append({ tenantId, stream: accountStream(accountId), expectedVersion: 0, events: events.map((event) => ({ ...encode(event), eventId: uuidv7() })) });
  }
}

function withClose(store: EventStore): { store: EventStore; close: () => Promise<void> } {
  return { store, close: () => store.close() };
}

async function overGrpc(backing: EventStore): Promise<{ store: EventStore; close: () => Promise<void> }> {
  const server = buildServer(backing, { log: () => {} });
  const port = await server.listen('127.0.0.1:0');
  const client = await GrpcEventStore.connect({ address: `127.0.0.1:${port}` });
  return {
    store: client,
    close: async () => {
      await client.close();
      await server.shutdown();
      await backing.close();
    },
  };
}

async function postgres(viaGrpc: boolean): Promise<{ store: EventStore; close: () => Promise<void> }> {
  const connectionString = process.env.DATABASE_URL!;
  const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const store = await PostgresEventStore.connect({ connectionString, schema });
  const dropSchema = async (): Promise<void> => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  };
  if (!viaGrpc) return { store, close: async () => (await store.close(), await dropSchema()) };
  const served = await overGrpc(store);
  return { store: served.store, close: async () => (await served.close(), await dropSchema()) };
}
