// What an append costs the database must not grow with the log. Counted in buffers read,
// which are exact where times are noise: an append into a tenant of 20 000 events reads
// about what one into a tenant of 20 does, with the plans made while the table was small
// (a server that started on an empty database keeps them).

import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import type { AppendRequest } from '../../../src/event-store/event-store.ts';
import { batchStatement } from '../../../src/event-store/postgres/append-statement.ts';
import type { PostgresStoreUnderTest } from '../../support/postgres.ts';
import { describePostgres, startPostgresStore, withClient } from '../../support/postgres.ts';
import { account, newEvent, newTenant } from '../contract.ts';

describePostgres('PostgreSQL append cost', (databaseUrl) => {
  let under: PostgresStoreUnderTest | undefined;
  beforeAll(async () => {
    under = await startPostgresStore(databaseUrl);
  });
  afterAll(async () => {
    await under?.stop();
  });

  /** Buffers the append's statement touched, as EXPLAIN (ANALYZE, BUFFERS) counts them (it runs it). */
  async function buffersOf(client: pg.Client, schema: string, appends: readonly AppendRequest[]): Promise<number> {
    const statement = batchStatement(schema, appends, { wait: true, keyRetentionMs: 86_400_000 });
    const plan = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, values: statement.values });
    const lines = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    const hits = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(lines);
    if (hits === null) throw new Error(`no buffer counts in the plan:\n${lines}`);
    return Number(hits[1]) + Number(hits[2] ?? 0);
  }

  it('reads about as much for a keyed append into a long log as into a short one', async () => {
    if (under === undefined) throw new Error('the store did not start');
    const { schema } = under;
    const tenantId = newTenant();
    let version = 0;
    // A lone keyed append, and a batch of two with a fresh event id each, the common shapes.
    const appendsAt = (): AppendRequest[] => {
      version++;
      return [
        { tenantId, stream: account('mine'), expectedVersion: version - 1, idempotencyKey: `cmd-${version}`, events: [newEvent()] },
        { tenantId, stream: account(`other-${version}`), expectedVersion: 0, idempotencyKey: `other-${version}`, events: [newEvent()] },
      ];
    };
    await withClient(databaseUrl, async (client) => {
      // Plans made on a tenant of 20 events, and kept for the connection's life.
      await under?.store.append({ tenantId, stream: account('filler'), expectedVersion: 0, events: Array.from({ length: 20 }, () => newEvent()) });
      for (let i = 0; i < 6; i++) await buffersOf(client, schema, appendsAt());
      const short = await buffersOf(client, schema, appendsAt());

      // Then 20 000 more events in the same tenant, keyed and not, none of them ours; twice.
      const fill = (from: number) =>
        client.query(
          `INSERT INTO "${schema}".events (global_position, tenant_id, aggregate_id, aggregate_type, version, event_id, event_type,
             event_version, content_type, payload, idempotency_key, fingerprint, fingerprint_algorithm)
           SELECT nextval('"${schema}".global_position'), $1, 'bulk-' || (g / 100), 'BankAccount', g % 100 + 1, 'bulk-event-' || g,
             'MoneyDeposited', 1, 'application/json', '\\x7b7d'::bytea,
             CASE WHEN g % 2 = 0 THEN 'bulk-key-' || g END, CASE WHEN g % 2 = 0 THEN 'f' END, CASE WHEN g % 2 = 0 THEN 'sha256/v1' END
             FROM generate_series($2::integer, $2::integer + 19999) g`,
          [tenantId, from],
        );
      await fill(0);
      const long = await buffersOf(client, schema, appendsAt());
      await fill(20_000);
      const longer = await buffersOf(client, schema, appendsAt());
      // Indexes a level deeper cost a few buffers more per lookup; a walk of the log costs
      // one per page of it (hundreds here), and twice as many for twice the log.
      expect(long).toBeLessThan(short + 40);
      expect(longer).toBeLessThan(long + 10);
    });
  });
});
