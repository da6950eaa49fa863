// Upgrading a database that an older version of the server created: the store applies the
// migrations it lacks, keeps the events already there, and runs again as a no-op.

import { afterEach, expect, it } from 'vitest';
import { readWholeStream } from '../../../src/event-store/event-store.ts';
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
    });

    const upgraded = await startPostgresStore(databaseUrl, { schema });
    try {
      const versions = await withClient(databaseUrl, (client) =>
        client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`));
      expect(versions.rows.map((row) => row.version)).toEqual([1, 2]);
      expect(await readWholeStream(upgraded.store, { tenantId, aggregateId: 'acc-1' })).toHaveLength(3);
      const appended = await upgraded.store.append({ tenantId, stream: account('acc-1'), expectedVersion: 3, events: [newEvent()] });
      expect(appended.lastVersion).toBe(4);
    } finally {
      await upgraded.store.close();
    }
  });

  it('starts again on an up-to-date schema without changing it', async () => {
    const schema = freshSchemaName();
    schemas.push(schema);
    const first = await startPostgresStore(databaseUrl, { schema });
    await first.store.close();
    const again = await startPostgresStore(databaseUrl, { schema });
    await again.store.close();
    const versions = await withClient(databaseUrl, (client) =>
      client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`));
    expect(versions.rows.map((row) => row.version)).toEqual([1, 2]);
  });
});
