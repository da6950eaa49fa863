// Shared set-up for tests on the real PostgreSQL: where the database is, what happens when
// it is not configured, and a fresh schema per test so runs never see each other's events.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { PostgresEventStoreOptions } from '../../src/event-store/postgres/options.ts';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.ts';

/**
 * Describes a block that needs PostgreSQL, handing it DATABASE_URL. Without DATABASE_URL
 * the block is skipped with a visible warning, or fails when REQUIRE_POSTGRES=1 (CI).
 */
export function describePostgres(name: string, body: (databaseUrl: string) => void): void {
  const databaseUrl = process.env['DATABASE_URL'];
  if (databaseUrl !== undefined && databaseUrl !== '') {
    describe(name, () => body(databaseUrl));
    return;
  }
  if (process.env['REQUIRE_POSTGRES'] === '1') {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error('REQUIRE_POSTGRES=1 but DATABASE_URL is not set');
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it.`);
  describe.skip(name, () => body(''));
}

/** A schema name no other test or earlier run uses. */
export function freshSchemaName(): string {
  return `test_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  await withClient(databaseUrl, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** Runs `work` on a connection of its own, closed afterwards whatever happens. */
export async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface PostgresStoreUnderTest {
  readonly store: PostgresEventStore;
  readonly schema: string;
  /** Closes the store and drops its schema. */
  readonly stop: () => Promise<void>;
}

/** A store on a fresh schema of its own. */
export async function startPostgresStore(
  databaseUrl: string,
  options: Partial<PostgresEventStoreOptions> = {},
): Promise<PostgresStoreUnderTest> {
  const schema = options.schema ?? freshSchemaName();
  const store = await PostgresEventStore.connect({ ...options, connectionString: databaseUrl, schema });
  return {
    store,
    schema,
    stop: async () => {
      await store.close();
      await dropSchema(databaseUrl, schema);
    },
  };
}

export interface StoresOnOneSchema {
  readonly first: PostgresStoreUnderTest;
  readonly second: PostgresStoreUnderTest;
}

/**
 * Two stores on one fresh schema, each with its own pool and LISTEN connection, as two
 * server processes would be: started before the enclosing block's tests, stopped after.
 */
export function storesOnOneSchema(databaseUrl: string, secondOptions: Partial<PostgresEventStoreOptions>): () => StoresOnOneSchema {
  let first: PostgresStoreUnderTest | undefined;
  let second: PostgresStoreUnderTest | undefined;
  beforeAll(async () => {
    first = await startPostgresStore(databaseUrl);
    second = await startPostgresStore(databaseUrl, { ...secondOptions, schema: first.schema });
  });
  afterAll(async () => {
    await second?.store.close();
    await first?.stop();
  });
  return () => {
    if (first === undefined || second === undefined) throw new Error('the stores did not start');
    return { first, second };
  };
}
