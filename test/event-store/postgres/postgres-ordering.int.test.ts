// The global order a subscriber relies on: no event skipped when transactions take their
// positions in one order and commit in another, and exactly-once delivery under many writers.

import { expect, it } from 'vitest';
import type { AppendRequest } from '../../../src/event-store/event-store.ts';
import { appendStatement } from '../../../src/event-store/postgres/append-statement.ts';
import type { PostgresStoreUnderTest } from '../../support/postgres.ts';
import { describePostgres, storesOnOneSchema, withClient } from '../../support/postgres.ts';
import { eventsOfWorkload, expectExactlyOnceInOrder, receiveAll, runWriters, withLiveSubscription } from '../../support/live-delivery.ts';
import { until } from '../../support/until.ts';
import { account, newEvent, newTenant, takeEvents } from '../contract.ts';

describePostgres('PostgreSQL event store: global order', (databaseUrl) => {
  // A short fallback poll on the reader, so the control test below sees its skip quickly.
  const pair = storesOnOneSchema(databaseUrl, { fallbackPollMs: 100 });
  const stores = (): { writer: PostgresStoreUnderTest; reader: PostgresStoreUnderTest } => {
    const { first, second } = pair();
    return { writer: first, reader: second };
  };

  it('makes a writer wait while another holds its position uncommitted, so a subscriber gets both in order', async () => {
    const { writer, reader } = stores();
    const tenantId = newTenant();
    await withLiveSubscription(reader.store, tenantId, async (subscription) => {
      await withClient(databaseUrl, async (holder) => {
        await holder.query('BEGIN');
        const held = await holder.query(appendStatement(writer.schema, oneEvent(tenantId, 'first')));
        const second = writer.store.append(oneEvent(tenantId, 'second'));
        // Committing before the second writer queues on the lock would prove nothing.
        await until(() => waitingOnAdvisoryLock(databaseUrl, writer.schema), 'the second writer to wait on the tenant lock');
        await holder.query('COMMIT');
        const secondResult = await second;
        expect(secondResult.lastGlobalPosition).toBeGreaterThan(Number(held.rows[0]?.last_global_position));
      });
      const received = await takeEvents(subscription, 2);
      expect(received.map((e) => e.stream.aggregateId)).toEqual(['first', 'second']);
    });
  });

  it('delivers both when two tenants take positions in one order and commit in the other', async () => {
    const { writer, reader } = stores();
    const [early, late] = [newTenant(), newTenant()];
    await withLiveSubscription(reader.store, early, async (earlySubscription) => {
      await withLiveSubscription(reader.store, late, async (lateSubscription) => {
        await withClient(databaseUrl, async (holder) => {
          await holder.query('BEGIN');
          await holder.query(appendStatement(writer.schema, oneEvent(early, 'taken-first')));
          // Another tenant does not wait: it takes a later position and commits first.
          await writer.store.append(oneEvent(late, 'taken-second'));
          expect((await takeEvents(lateSubscription, 1))[0]?.stream.aggregateId).toBe('taken-second');
          await holder.query('COMMIT');
        });
        const [committedLast] = await takeEvents(earlySubscription, 1);
        expect(committedLast?.stream.aggregateId).toBe('taken-first');
      });
    });
  });

  // The control: the same interleaving inside one tenant, by a writer that skips the lock
  // (inserting directly), does make a subscriber miss an event. The tests above could fail.
  it('would skip an event if a writer took its position without the tenant lock', async () => {
    const { writer, reader } = stores();
    const tenantId = newTenant();
    await withLiveSubscription(reader.store, tenantId, async (subscription) => {
      await withClient(databaseUrl, async (rogue) => {
        await rogue.query('BEGIN');
        await rogue.query(
          `INSERT INTO "${writer.schema}".events (global_position, tenant_id, aggregate_id, aggregate_type, version, event_id,
             event_type, event_version, content_type, payload)
           VALUES (nextval('"${writer.schema}".global_position'), $1, 'rogue', 'BankAccount', 1, $2, 'Noted', 1, 'application/json', '\\x7b7d')`,
          [tenantId, newEvent().eventId],
        );
        await writer.store.append(oneEvent(tenantId, 'honest'));
        expect((await takeEvents(subscription, 1))[0]?.stream.aggregateId).toBe('honest');
        await rogue.query('COMMIT');
      });
      await writer.store.append({ ...oneEvent(tenantId, 'honest'), expectedVersion: 1 });
      const [next] = await takeEvents(subscription, 1);
      expect(next?.stream.aggregateId).toBe('honest');
    });
  });

  it('delivers every acknowledged event of 8 concurrent writers exactly once, in order', async () => {
    const { writer, reader } = stores();
    const tenantId = newTenant();
    await withLiveSubscription(reader.store, tenantId, async (subscription) => {
      const started = performance.now();
      const { acknowledged } = await runWriters({ tenantId, stores: [writer.store, reader.store], writers: 8, appendsPerWriter: 30 });
      const received = await receiveAll(subscription, new Set(acknowledged.map((e) => e.eventId)));
      console.info(`8 writers: ${acknowledged.length} events acknowledged and delivered in ${Math.round(performance.now() - started)} ms`);
      expect(acknowledged).toHaveLength(eventsOfWorkload(8, 30));
      expectExactlyOnceInOrder(acknowledged, received);
    });
  });
});

/** Whether exactly one connection of the store's pool is queued for an advisory lock, not yet granted. */
async function waitingOnAdvisoryLock(databaseUrl: string, schema: string): Promise<boolean> {
  return withClient(databaseUrl, async (client) => {
    const result = await client.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`,
      [`eventstore/${schema}`],
    );
    return result.rows[0]?.waiting === 1;
  });
}

function oneEvent(tenantId: string, aggregateId: string): AppendRequest {
  return { tenantId, stream: account(aggregateId), expectedVersion: 0, events: [newEvent()] };
}
