// Group commit on PostgreSQL: appends that queue while a batch is in the database go
// together in one transaction, yet each keeps the answer it would have had alone; a batch
// that fails as a whole answers each append for what it is; two batches sharing tenants
// never deadlock.

import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppendRequest, AppendResult } from '../../../src/event-store/event-store.ts';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  NotRecordedError,
  StoreUnavailableError,
} from '../../../src/event-store/errors.ts';
import { batchStatement } from '../../../src/event-store/postgres/append-statement.ts';
import type { PostgresStoreUnderTest } from '../../support/postgres.ts';
import { describePostgres, startPostgresStore, withClient } from '../../support/postgres.ts';
import { until } from '../../support/until.ts';
import { withLiveSubscription } from '../../support/live-delivery.ts';
import { account, newEvent, newTenant, takeEvents } from '../contract.ts';

describePostgres('PostgreSQL group commit', (databaseUrl) => {
  let under: PostgresStoreUnderTest | undefined;
  // Long lock waits: in these tests a holder decides when the batches go on.
  beforeAll(async () => {
    under = await startPostgresStore(databaseUrl, { lockTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await under?.stop();
  });
  const store = (): PostgresStoreUnderTest => {
    if (under === undefined) throw new Error('the store did not start');
    return under;
  };

  it('answers each append of one batch as if it had gone alone, in queue order', async () => {
    const { schema } = store();
    const [t1, t2] = [newTenant(), newTenant()];
    const first = { ...oneEvent(t1, 's-1') };
    const keyed = { ...oneEvent(t2, 's-2'), idempotencyKey: 'key-1' };
    const outcomes = await inOneBatch(store(), [
      first,
      oneEvent(t1, 's-1'), // the same stream at version 0 again: the first got there
      { ...oneEvent(t1, 's-1'), expectedVersion: 1 }, // sees the first
      { ...oneEvent(t1, 's-3'), events: [first.events[0]!] }, // the first's event id
      keyed,
      keyed, // resent: the first answer
      { ...oneEvent(t2, 's-2'), idempotencyKey: 'key-1', expectedVersion: 1 }, // another batch, same key
      { tenantId: t1, stream: { aggregateType: 'Loan', aggregateId: 's-1' }, expectedVersion: 2, events: [newEvent()] },
      oneEvent(t2, 's-4'),
    ]);
    const [a, conflict, b, duplicate, k, replay, reused, mismatch, c] = outcomes;
    expect(a).toMatchObject({ lastVersion: 1 });
    expect(conflict).toBeInstanceOf(ConcurrencyError);
    expect(conflict).toMatchObject({ actualVersion: 1 });
    expect(b).toMatchObject({ lastVersion: 2 });
    expect(duplicate).toBeInstanceOf(DuplicateEventIdError);
    expect(k).toMatchObject({ lastVersion: 1 });
    expect(replay).toEqual(k);
    expect(reused).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(mismatch).toBeInstanceOf(InvalidRequestError);
    expect(c).toMatchObject({ lastVersion: 1 });
    // One transaction wrote all four events: one batch indeed.
    const writers = await withClient(databaseUrl, (client) =>
      client.query(`SELECT DISTINCT xmin::text FROM "${schema}".events WHERE tenant_id = ANY ($1)`, [[t1, t2]]));
    expect(writers.rows).toHaveLength(1);
    expect(await eventCount(schema, [t1, t2])).toBe(4);
  });

  it('answers each append of a batch of unrelated appends (one statement per step) as if it had gone alone', async () => {
    const { store: s, schema } = store();
    const [t1, t2] = [newTenant(), newTenant()];
    const stored = newEvent();
    const keyedBefore = { ...oneEvent(t1, 'keyed'), idempotencyKey: 'k-1' };
    const answeredBefore = await s.append(keyedBefore);
    await s.append({ ...oneEvent(t1, 'exists'), events: [stored] });
    await s.append({ ...oneEvent(t2, 'keyed'), idempotencyKey: 'k-2' });
    await s.append(oneEvent(t2, 'typed'));
    const keyedNew = { ...oneEvent(t2, 'new-key'), idempotencyKey: 'k-3' };
    const [fresh, conflict, replay, reused, mismatch, duplicate, keyed, three, reuse] = await inOneBatch(store(), [
      oneEvent(t1, 'fresh'),
      oneEvent(t1, 'exists'),
      keyedBefore,
      { ...oneEvent(t2, 'keyed'), idempotencyKey: 'k-2', expectedVersion: 1 },
      { tenantId: t2, stream: { aggregateType: 'Loan', aggregateId: 'typed' }, expectedVersion: 1, events: [newEvent()] },
      { ...oneEvent(t1, 'dup'), events: [{ ...newEvent(), eventId: stored.eventId }] },
      keyedNew,
      { tenantId: t2, stream: account('multi'), expectedVersion: 0, events: [newEvent(), newEvent(), newEvent()] },
      // Event ids are unique per tenant: t2 may use one t1 has.
      { ...oneEvent(t2, 'reuse'), events: [{ ...newEvent(), eventId: stored.eventId }] },
    ]);
    expect(fresh).toMatchObject({ lastVersion: 1 });
    expect(conflict).toBeInstanceOf(ConcurrencyError);
    expect(conflict).toMatchObject({ actualVersion: 1 });
    expect(replay).toEqual(answeredBefore);
    expect(reused).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(mismatch).toBeInstanceOf(InvalidRequestError);
    expect(duplicate).toBeInstanceOf(DuplicateEventIdError);
    expect(keyed).toMatchObject({ lastVersion: 1 });
    expect(three).toMatchObject({ lastVersion: 3 });
    expect(reuse).toMatchObject({ lastVersion: 1 });
    // Positions rise in queue order, and an append's answer is its last event's.
    const positions = [fresh, keyed, three, reuse].map((r) => (r as AppendResult).lastGlobalPosition);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    const multi = (await s.readStream({ tenantId: t2, aggregateId: 'multi', fromVersion: 0, maxCount: 0, direction: 'forward' })).events;
    expect(multi.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(multi.at(-1)?.globalPosition).toBe((three as AppendResult).lastGlobalPosition);
    // The ledger took the new key's answer, as a resend shows.
    expect(await s.append(keyedNew)).toEqual(keyed);
    const writers = await withClient(databaseUrl, (client) =>
      client.query(`SELECT DISTINCT xmin::text FROM "${schema}".events WHERE tenant_id = ANY ($1) AND aggregate_id IN ('fresh', 'multi', 'reuse')`, [[t1, t2]]));
    expect(writers.rows).toHaveLength(1);
  });

  it('fails only the append whose data the database refuses, when that undoes its whole batch', async () => {
    const { schema } = store();
    const [t1, t2] = [newTenant(), newTenant()];
    // A lone surrogate passes every check in JavaScript, but is no character for PostgreSQL's jsonb.
    const refused = { ...oneEvent(t1, 'bad'), events: [{ ...newEvent(), headers: { note: '\ud800' } }] };
    const [good, bad, other] = await inOneBatch(store(), [oneEvent(t1, 'good'), refused, oneEvent(t2, 'other')]);
    expect(good).toMatchObject({ lastVersion: 1 });
    expect(bad).toBeInstanceOf(InvalidRequestError);
    expect(other).toMatchObject({ lastVersion: 1 });
    expect(await eventCount(schema, [t1, t2])).toBe(2);
  });

  it('answers every append of a batch whose connection died as unknown', async () => {
    const { store: s, schema } = store();
    const tenantId = newTenant();
    const outcomes = await whileTenantLocked(schema, tenantId, async (holder) => {
      // The first append finds the lock taken; the others queue behind it; all then go
      // together in one batch that waits for the lock, and loses its connection.
      const appends = ['a', 'b', 'c'].map((id) => s.append(oneEvent(tenantId, id)).catch((error: unknown) => error));
      await until(() => withClient(databaseUrl, (observer) => waitingOnAdvisoryLock(observer, schema)), 'the batch to wait for the tenant lock');
      await holder.query(
        `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
        [`eventstore/${schema}`],
      );
      return Promise.all(appends);
    });
    for (const outcome of outcomes) {
      expect(outcome).toBeInstanceOf(StoreUnavailableError);
      expect(outcome).not.toBeInstanceOf(NotRecordedError);
    }
  });

  it('answers every append of a batch that ran out of time as not recorded, nothing written', async () => {
    const impatient = await startPostgresStore(databaseUrl, { lockTimeoutMs: 200 });
    try {
      const tenantId = newTenant();
      const outcomes = await whileTenantLocked(impatient.schema, tenantId, () =>
        Promise.all(['a', 'b', 'c'].map((id) => impatient.store.append(oneEvent(tenantId, id)).catch((error: unknown) => error))));
      for (const outcome of outcomes) expect(outcome).toBeInstanceOf(NotRecordedError);
      expect(await eventCount(impatient.schema, [tenantId])).toBe(0);
      // Not recorded means safe to send again.
      expect(await impatient.store.append(oneEvent(tenantId, 'a'))).toMatchObject({ lastVersion: 1 });
    } finally {
      await impatient.stop();
    }
  });

  it('lets two batches that lock the same tenants in opposite orders both finish', async () => {
    const { schema } = store();
    const [low, high] = await tenantsInLockOrder(schema);
    // The holder keeps `high`, so each batch stops on its way through the locks, where
    // an unsorted order would leave one holding `low` while waiting for `high`.
    await whileTenantLocked(schema, high, async (holder) => {
      await withClient(databaseUrl, (one) => withClient(databaseUrl, async (other) => {
        const [onePid, otherPid] = [await backendPid(one), await backendPid(other)];
        const highFirst = one.query(batchStatement(schema, [oneEvent(high, 'a'), oneEvent(low, 'b')], { wait: true, keyRetentionMs: 60_000 }));
        await until(() => waitingForLock(holder, onePid), 'the first batch to wait');
        const lowFirst = other.query(batchStatement(schema, [oneEvent(low, 'c'), oneEvent(high, 'd')], { wait: true, keyRetentionMs: 60_000 }));
        await until(() => waitingForLock(holder, otherPid), 'the second batch to wait');
        await holder.query('ROLLBACK');
        const results = await Promise.all([highFirst, lowFirst]);
        expect(results.flatMap((r) => r.rows.map((row: { outcome: string }) => row.outcome))).toEqual(['appended', 'appended', 'appended', 'appended']);
      }));
    });
  });

  it('keeps serving other tenants, appends and subscriptions, while two tenants\' locks are held elsewhere', async () => {
    // A small pool, so that appends waiting on a held lock could easily take every connection.
    const small = await startPostgresStore(databaseUrl, { poolMax: 4, lockTimeoutMs: 60_000 });
    try {
      const [hot, alsoHot, calm] = [newTenant(), newTenant(), newTenant()];
      await withLiveSubscription(small.store, calm, async (subscription) => {
        const { settled } = await whileTenantLocked(small.schema, hot, () => whileTenantLocked(small.schema, alsoHot, async () => {
          // Arriving together, so the hot tenants' appends would share batches with the calm one's.
          const stuck: Array<Promise<AppendResult>> = [];
          const calmAppends: Array<Promise<AppendResult>> = [];
          for (let i = 0; i < 20; i++) {
            stuck.push(small.store.append(oneEvent(hot, `h-${i}`)), small.store.append(oneEvent(alsoHot, `h-${i}`)));
            calmAppends.push(small.store.append(oneEvent(calm, `c-${i}`)));
          }
          expect((await Promise.all(calmAppends)).map((r) => r.lastVersion)).toEqual(new Array(20).fill(1));
          expect(await takeEvents(subscription, 20)).toHaveLength(20);
          const page = await small.store.readStream({ tenantId: calm, aggregateId: 'c-0', fromVersion: 0, maxCount: 0, direction: 'forward' });
          expect(page.events).toHaveLength(1);
          expect(await eventCount(small.schema, [hot, alsoHot])).toBe(0);
          // Wrapped: a promise returned bare would be awaited while the locks are still held.
          return { settled: Promise.allSettled(stuck) };
        }));
        // Once the locks are free, the hot tenants' appends go through as well.
        expect((await settled).map((s) => s.status)).toEqual(new Array(40).fill('fulfilled'));
      });
    } finally {
      await small.stop();
    }
  });

  /**
   * Sends `appends` so that they go in one batch: a holder locks the events table first, so
   * that the store's batch in flight (another tenant) stops at its insert and everything
   * after queues; then the holder lets go.
   */
  async function inOneBatch(
    under: PostgresStoreUnderTest,
    appends: readonly AppendRequest[],
  ): Promise<Array<AppendResult | unknown>> {
    return withClient(databaseUrl, async (holder) => {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${under.schema}".events IN SHARE MODE`);
      const ahead = under.store.append(oneEvent(newTenant(), 'ahead')).catch((e: unknown) => e);
      await until(() => withClient(databaseUrl, (observer) => waitingOnTable(observer, under.schema)), 'the batch ahead to wait on the events table');
      const outcomes = appends.map((append) => under.store.append(append).catch((error: unknown) => error));
      await holder.query('COMMIT');
      await ahead;
      return Promise.all(outcomes);
    });
  }

  /** Runs `work` while a connection of its own holds the tenant's lock, as another server's append would. */
  async function whileTenantLocked<T>(schema: string, tenantId: string, work: (holder: pg.Client) => Promise<T>): Promise<T> {
    return withClient(databaseUrl, async (holder) => {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))`, [`"${schema}"`, tenantId]);
      try {
        return await work(holder);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  async function eventCount(schema: string, tenants: readonly string[]): Promise<number> {
    const result = await withClient(databaseUrl, (client) =>
      client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".events WHERE tenant_id = ANY ($1)`, [tenants]));
    return result.rows[0]?.n ?? -1;
  }

  /** Two new tenants, the first with the lower lock key. */
  async function tenantsInLockOrder(schema: string): Promise<[string, string]> {
    const [a, b] = [newTenant(), newTenant()];
    const keys = await withClient(databaseUrl, (client) =>
      client.query<{ a_first: boolean }>(
        `SELECT hashtextextended($1 || '/' || $2, 0) < hashtextextended($1 || '/' || $3, 0) AS a_first`,
        [`"${schema}"`, a, b],
      ));
    return keys.rows[0]?.a_first === true ? [a, b] : [b, a];
  }
});

async function waitingOnTable(client: pg.Client, schema: string): Promise<boolean> {
  const result = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE NOT l.granted AND l.relation = $1::regclass AND a.application_name = $2`,
    [`"${schema}".events`, `eventstore/${schema}`],
  );
  return (result.rows[0]?.n ?? 0) > 0;
}

// These join pg_stat_activity, which a transaction sees as it was at its first look: ask
// them on a connection outside any transaction.

/** Whether a connection of the store on `schema` queues for an advisory lock. */
async function waitingOnAdvisoryLock(observer: pg.Client, schema: string): Promise<boolean> {
  const result = await observer.query(
    `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
    [`eventstore/${schema}`],
  );
  return result.rows.length > 0;
}

async function waitingForLock(observer: pg.Client, pid: number): Promise<boolean> {
  const result = await observer.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted`, [pid]);
  return result.rows.length > 0;
}

async function backendPid(client: pg.Client): Promise<number> {
  const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return result.rows[0]?.pid ?? -1;
}

function oneEvent(tenantId: string, aggregateId: string): AppendRequest {
  return { tenantId, stream: account(aggregateId), expectedVersion: 0, events: [newEvent()] };
}
