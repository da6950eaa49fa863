// Upgrading a database that an older version of the server created: the store applies the
// migrations it lacks, keeps the events already there, and runs again as a no-op.

import { afterEach, expect, it } from 'vitest';
import type pg from 'pg';
import type { AppendRequest } from '../../../src/event-store/event-store.ts';
import { readWholeStream } from '../../../src/event-store/event-store.ts';
import { batchFingerprint } from '../../../src/event-store/rules.ts';
import { account, appendMany, newEvent, newTenant } from '../contract.ts';
import { describePostgres, dropSchema, freshSchemaName, startPostgresStore, withClient } from '../../support/postgres.ts';

describePostgres('PostgreSQL schema upgrades', (databaseUrl) => {
  const schemas: string[] = [];
  afterEach(async () => {
    for (const schema of schemas.splice(0)) await dropSchema(databaseUrl, schema);
  });

  it('applies a missing later migration to a schema at version 1, keeping its events', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const tenantId = newTenant();
    const first = await startPostgresStore(databaseUrl, { schema });
    await appendMany(first.store, tenantId, 'acc-1', 3);
    await first.store.close();

    // Take the schema back to what migration 1 alone made.
    await withClient(databaseUrl, async (client) => {
      await client.query(`DELETE FROM "${schema}".schema_migrations WHERE version > 1`);
      await client.query(`DROP FUNCTION "${schema}".append_events`);
      await client.query(`DROP FUNCTION "${schema}".append_batch`);
      await client.query(`ALTER TABLE "${schema}".events DROP COLUMN idempotency_key, DROP COLUMN fingerprint, DROP COLUMN fingerprint_algorithm`);
    });

    const upgraded = await startPostgresStore(databaseUrl, { schema });
    try {
      const versions = await withClient(databaseUrl, (client) =>
        client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`));
      expect(versions.rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
      expect(await readWholeStream(upgraded.store, { tenantId, aggregateId: 'acc-1' })).toHaveLength(3);
      const appended = await upgraded.store.append({ tenantId, stream: account('acc-1'), expectedVersion: 3, events: [newEvent()] });
      expect(appended.lastVersion).toBe(4);
    } finally {
      await upgraded.store.close();
    }
  });

  it('keeps honouring a key the previous version recorded in its ledger', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const tenantId = newTenant();
    const first = await startPostgresStore(databaseUrl, { schema });
    await first.store.close();
    const keyed: AppendRequest = { tenantId, stream: account('acc-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent()] };
    // Back to version 2, and the append made there, by its own function, into its ledger.
    const answered = await withClient(databaseUrl, async (client) => {
      await client.query(`DELETE FROM "${schema}".schema_migrations WHERE version > 2`);
      await client.query(`DROP FUNCTION "${schema}".append_batch`);
      await client.query(`ALTER TABLE "${schema}".events DROP COLUMN idempotency_key, DROP COLUMN fingerprint, DROP COLUMN fingerprint_algorithm`);
      const [event] = keyed.events;
      const result = await client.query<{ last_version: string; last_global_position: string }>(
        `SELECT * FROM "${schema}".append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
        [tenantId, 'acc-1', 'BankAccount', 0, 'cmd-1', batchFingerprint(keyed), [event?.eventId], [event?.eventType], [event?.eventVersion],
          [event?.contentType], [event?.payload], [null], [null], [null], [null], [null], [null], [null]],
      );
      return { lastVersion: Number(result.rows[0]?.last_version), lastGlobalPosition: Number(result.rows[0]?.last_global_position) };
    });

    const upgraded = await startPostgresStore(databaseUrl, { schema });
    try {
      expect(await upgraded.store.append(keyed)).toEqual(answered);
      expect(await readWholeStream(upgraded.store, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
    } finally {
      await upgraded.store.close();
    }
  });

  it('starts again on an up-to-date schema without changing it', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const tenantId = newTenant();
    const first = await startPostgresStore(databaseUrl, { schema });
    try {
      await appendMany(first.store, tenantId, 'acc-1', 3);
      // Under an idempotency key, so the ledger has a row to keep too.
      const opening = { tenantId, stream: account('acc-2'), expectedVersion: 0, idempotencyKey: 'open-acc-2', events: [newEvent()] };
      await first.store.append(opening);
    } finally {
      await first.store.close();
    }
    const before = await withClient(databaseUrl, (client) => schemaSnapshot(client, schema));

    const again = await startPostgresStore(databaseUrl, { schema });
    await again.store.close();

    const after = await withClient(databaseUrl, (client) => schemaSnapshot(client, schema));
    expect(after.migrations.map((row) => row.version)).toEqual([1, 2, 3, 4]);
    expect(after.events).toHaveLength(4);
    expect(after).toEqual(before);
  });
});

/**
 * Everything a start could change in a schema: when each migration was applied, the very
 * objects (by oid, so one dropped and made again shows) and their definitions, the
 * sequence's position, and every row of events and of the idempotency ledger.
 */
async function schemaSnapshot(client: pg.Client, schema: string) {
  const rows = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = [schema]): Promise<R[]> =>
    (await client.query<R>(sql, values)).rows;
  const inSchema = `"${schema}"`;
  return {
    migrations: await rows<{ version: number; name: string; applied_at: Date }>(
      `SELECT version, name, applied_at FROM ${inSchema}.schema_migrations ORDER BY version`,
      [],
    ),
    relations: await rows(`SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 ORDER BY c.relname`),
    functions: await rows(`SELECT p.oid, p.proname, pg_get_functiondef(p.oid) AS definition FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY p.proname`),
    columns: await rows(`SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`),
    constraints: await rows(`SELECT k.oid, k.conname, pg_get_constraintdef(k.oid) AS definition FROM pg_constraint k
      JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = $1 ORDER BY k.conname`),
    indexes: await rows(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`),
    triggers: await rows(`SELECT t.oid, t.tgname, pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY t.tgname`),
    sequences: await rows(`SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = $1 ORDER BY sequencename`),
    events: await rows(`SELECT * FROM ${inSchema}.events ORDER BY global_position`, []),
    idempotencyKeys: await rows(`SELECT * FROM ${inSchema}.idempotency_keys ORDER BY aggregate_id, idempotency_key`, []),
  };
}
