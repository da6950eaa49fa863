// Bench support: PostgreSQL for the rows that need it: where it is, fresh schemas that no
// other run sees, and dropping every schema the bench made when it ends, also on failure.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** DATABASE_URL, or undefined: the PostgreSQL rows are then left out, and the report says so. */
export const DATABASE_URL = process.env.DATABASE_URL || undefined;

const made = new Set<string>();

/** A schema name no other run uses, remembered so `dropSchemas` removes it. */
export function freshSchema(purpose: string): string {
  const name = `bench_${purpose}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  made.add(name);
  return name;
}

export async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops every schema `freshSchema` named; the bench's finally block. */
export async function dropSchemas(databaseUrl: string): Promise<void> {
  if (made.size === 0) return;
  await withClient(databaseUrl, async (client) => {
    for (const schema of made) {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      made.delete(schema);
    }
  });
}

/**
 * Writes `count` small deposit events straight into a store schema's events table, as a
 * log to catch up on: far quicker than appending them, and the reading is the point.
 * Streams of 1000 events, as the memory backend's bulk appends make them.
 */
export async function insertEvents(databaseUrl: string, schema: string, tenantId: string, count: number): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query(
      `INSERT INTO "${schema}".events (global_position, tenant_id, aggregate_id, aggregate_type, version, event_id,
         event_type, event_version, content_type, correlation_id, causation_id, client_timestamp_ms, payload)
       SELECT nextval('"${schema}".global_position'), $1, 'acct-' || (g / 1000), 'BankAccount', g % 1000 + 1, 'evt-' || g,
         'MoneyDeposited', 1, 'application/json', 'cmd-' || g, 'cmd-' || g, 1700000000000 + g,
         convert_to(json_build_object('accountId', 'acct-' || (g / 1000), 'transactionId', 'tx-' || g, 'amountCents', 100,
           'description', 'bench deposit', 'balanceAfterCents', 100 * (g % 1000 + 1))::text, 'UTF8')
       FROM generate_series(0, $2 - 1) g`,
      [tenantId, count],
    );
    // As autovacuum would within a minute; without statistics the planner misjudges the table.
    await client.query(`ANALYZE "${schema}".events`);
  });
}
