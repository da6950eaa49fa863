// Bench rows for PostgreSQL: appends in process and through the server child, one writer and
// sixteen (in one tenant and in sixteen), against the bare INSERT; catching up on a long
// log, against the bare gRPC stream and the bare cursor read; and the delay from an append
// to a live subscriber of another server process.

import { newId } from '../src/ids.ts';
import type { EventStore } from '../src/event-store/event-store.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { PostgresEventStore } from '../src/event-store/postgres/postgres-event-store.ts';
import { startEventStoreServer } from './children.ts';
import type { Floors } from './floors.ts';
import { measureInterleaved, progress, quantile, SIZES } from './measure.ts';
import type { Rate, Slot } from './measure.ts';
import { freshSchema, insertEvents } from './postgres.ts';
import type { Report } from './report.ts';
import { wanted } from './only.ts';
import { catchUpRate, liveDelays } from './rows-reads.ts';
import { depositAppend } from './workload.ts';

interface Shape {
  readonly label: string;
  readonly writers: number;
  readonly tenants: number;
}

const SEQUENTIAL: Shape = { label: 'sequential', writers: 1, tenants: 1 };
const ONE_TENANT: Shape = { label: '16 writers, one tenant', writers: 16, tenants: 1 };
const MANY_TENANTS: Shape = { label: '16 writers, 16 tenants', writers: 16, tenants: 16 };

/** Appends of one small deposit each, every writer on a stream of its own. */
function appends(store: EventStore, shape: Shape, where: string): Slot {
  const run = newId();
  const versions = new Array<number>(shape.writers).fill(0);
  return {
    name: `${where} appends, ${shape.label}`,
    inFlight: shape.writers,
    op: async (worker) => {
      const expectedVersion = versions[worker] ?? 0;
      const tenantId = `bench-${run}-${worker % shape.tenants}`;
      await store.append(depositAppend({ tenantId, accountId: `writer-${worker}`, expectedVersion }));
      versions[worker] = expectedVersion + 1;
    },
  };
}

type Section = (name: string, work: () => Promise<void>) => Promise<void>;

/** The PostgreSQL row groups, each a section of its own (and a word for `pnpm bench -- <word>`). */
export async function postgresRows(report: Report, databaseUrl: string, floors: Floors, section: Section): Promise<void> {
  await section('PostgreSQL in process appends', () => inProcessAppendRows(report, databaseUrl, floors));
  const wantsServer = ['PostgreSQL server appends', 'PostgreSQL catch-up', 'PostgreSQL live latency'].some(wanted);
  if (!wantsServer) return;
  const schema = freshSchema('server');
  progress(`PostgreSQL through the server: starting a server child on schema ${schema}`);
  const server = await startEventStoreServer({ BACKEND: 'postgres', DATABASE_URL: databaseUrl, PG_SCHEMA: schema });
  try {
    await section('PostgreSQL server appends', () => serverAppendRows(report, server.address, floors));
    await section('PostgreSQL catch-up', () => catchUpRows(report, databaseUrl, schema, server.address, floors));
    await section('PostgreSQL live latency', () => liveRows(report, databaseUrl, schema, server.address, floors));
  } finally {
    await server.stop();
  }
}

function figure(report: Report, key: string, label: string, rate: Rate | undefined, floor: { label: string; value: number }, bound?: number): void {
  report.figure({
    key,
    label,
    value: rate?.perSecond ?? Number.NaN,
    unit: 'per_s',
    floor,
    ...(bound === undefined ? {} : { target: { on: 'ratio', op: '>=', bound } as const }),
  });
}

async function inProcessAppendRows(report: Report, databaseUrl: string, floors: Floors): Promise<void> {
  const inProcess = await PostgresEventStore.connect({ connectionString: databaseUrl, schema: freshSchema('inproc') });
  try {
    const [insertSeq, seq] = await measureInterleaved([floors.insert(1), appends(inProcess, SEQUENTIAL, 'PostgreSQL in process')]);
    figure(report, 'pg_append_seq', 'PostgreSQL in process appends, sequential', seq, { label: 'INSERT sequential', value: insertSeq?.perSecond ?? Number.NaN });
    const [insert16, one, many] = await measureInterleaved([
      floors.insert(16),
      appends(inProcess, ONE_TENANT, 'PostgreSQL in process'),
      appends(inProcess, MANY_TENANTS, 'PostgreSQL in process'),
    ]);
    const floor16 = { label: 'INSERT 16 clients', value: insert16?.perSecond ?? Number.NaN };
    figure(report, 'pg_append_16_one_tenant', `PostgreSQL in process appends, ${ONE_TENANT.label}`, one, floor16);
    // A batch pays one commit for many appends: it should beat a transaction per row.
    figure(report, 'pg_append_16_tenants', `PostgreSQL in process appends, ${MANY_TENANTS.label}`, many, floor16, 1.0);
  } finally {
    await inProcess.close();
  }
}

async function serverAppendRows(report: Report, address: string, floors: Floors): Promise<void> {
  const client = await GrpcEventStore.connect({ address });
  try {
    const [echoSeq, insertSeq, seq] = await measureInterleaved([floors.echo(1), floors.insert(1), appends(client, SEQUENTIAL, 'gRPC → PostgreSQL')]);
    // One round trip to the server and one commit, one after the other: their times add up.
    const serial = 1 / (1 / (echoSeq?.perSecond ?? Number.NaN) + 1 / (insertSeq?.perSecond ?? Number.NaN));
    report.note('a ⊕ b is 1/(1/a + 1/b): the rate of two steps taken one after the other');
    figure(report, 'grpc_postgres_append_seq', 'gRPC → PostgreSQL appends, sequential', seq, { label: 'echo seq ⊕ INSERT seq', value: serial }, 0.8);
    const [echo16, insert16, one, many] = await measureInterleaved([
      floors.echo(16),
      floors.insert(16),
      appends(client, ONE_TENANT, 'gRPC → PostgreSQL'),
      appends(client, MANY_TENANTS, 'gRPC → PostgreSQL'),
    ]);
    const floor16 = { label: 'min(echo 16, INSERT 16)', value: Math.min(echo16?.perSecond ?? Number.NaN, insert16?.perSecond ?? Number.NaN) };
    figure(report, 'grpc_postgres_append_16_one_tenant', `gRPC → PostgreSQL appends, ${ONE_TENANT.label}`, one, floor16, 0.5);
    figure(report, 'grpc_postgres_append_16_tenants', `gRPC → PostgreSQL appends, ${MANY_TENANTS.label}`, many, floor16, 0.8);
    // Each floor alone keeps this machine's cores busy: a server that does both halves'
    // work on the same cores can at most reach the two taken one after the other.
    const both = 1 / (1 / (echo16?.perSecond ?? Number.NaN) + 1 / (insert16?.perSecond ?? Number.NaN));
    const share = (rate: Rate | undefined): string => ((rate?.perSecond ?? Number.NaN) / both).toFixed(2);
    report.note(
      `16 writers through the server: echo 16 ⊕ INSERT 16 = ${Math.round(both)}/s is the most a server could do when both floors need every core; ` +
        `the rows reach ${share(one)} (one tenant) and ${share(many)} (16 tenants) of it`,
    );
  } finally {
    await client.close();
  }
}

async function catchUpRows(report: Report, databaseUrl: string, schema: string, address: string, floors: Floors): Promise<void> {
  const client = await GrpcEventStore.connect({ address });
  try {
    const count = SIZES.catchUpEvents;
    const tenantId = `bench-long-${newId()}`;
    progress(`PostgreSQL: writing ${count} events into the server's schema with SQL`);
    await insertEvents(databaseUrl, schema, tenantId, count);
    const streamPerS = await floors.stream();
    progress(`gRPC → PostgreSQL: catch-up of ${count} events`);
    report.figure({
      key: 'grpc_postgres_catchup',
      label: `gRPC → PostgreSQL catch-up of ${count} events`,
      value: await catchUpRate(client, tenantId, count),
      unit: 'per_s',
      floor: { label: 'bare gRPC stream', value: streamPerS },
      target: { on: 'ratio', op: '>=', bound: 0.6 },
    });
    const cursorPerS = await floors.cursor();
    progress(`PostgreSQL in process: catch-up of ${count} events`);
    const reader = await PostgresEventStore.connect({ connectionString: databaseUrl, schema });
    try {
      report.figure({
        key: 'pg_catchup',
        label: `PostgreSQL in process catch-up of ${count} events`,
        value: await catchUpRate(reader, tenantId, count),
        unit: 'per_s',
        floor: { label: 'bare cursor read', value: cursorPerS },
      });
    } finally {
      await reader.close();
    }
  } finally {
    await client.close();
  }
}

/** Appends through the server child, a live subscriber on a second server process on the same schema. */
async function liveRows(report: Report, databaseUrl: string, schema: string, address: string, floors: Floors): Promise<void> {
  progress('PostgreSQL: starting a second server child on the same schema, for its live subscriber');
  const other = await startEventStoreServer({ BACKEND: 'postgres', DATABASE_URL: databaseUrl, PG_SCHEMA: schema });
  try {
    const { delaysMs, floorLatenciesMs: [echoMs = [], insertMs = []] } = await liveDelays({
      writerAddress: address,
      readerAddress: other.address,
      floors: [floors.echo(1), floors.insert(1)],
    });
    // Two steps stand between an append and another process's subscriber at the least: the
    // round trip to the server and the commit; NOTIFY and the subscriber's read come on top.
    report.figure({
      key: 'grpc_postgres_live_latency_p99',
      label: 'gRPC → PostgreSQL live latency p99 (append → subscriber of another server)',
      value: quantile(delaysMs, 0.99),
      unit: 'ms',
      floor: { label: 'echo p99 + INSERT p99', value: quantile(echoMs, 0.99) + quantile(insertMs, 0.99) },
      target: { on: 'ratio', op: '<=', bound: 2 },
    });
  } finally {
    await other.stop();
  }
}
