// The PostgreSQL event store's schema, as numbered migrations applied at start-up. Each
// server runs them before serving, so a new version of the code upgrades the database.

import type { Pool } from 'pg';
import { appendBatchFunction } from './append-batch-function.ts';

interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL, given the quoted schema name and the schema's notification channel. */
  readonly sql: (schema: string, channel: string) => string;
}

/** The channel appends notify on: one per schema, so stores in other schemas stay quiet. */
export function notificationChannel(schema: string): string {
  return `eventstore_${schema}`;
}

/**
 * Applies the migrations this schema lacks, all in one transaction under an advisory lock
 * keyed by the schema: two servers starting together on an empty database queue up on the
 * lock, the first creates everything and the second finds nothing left to do.
 */
export async function migrate(pool: Pool, schema: string): Promise<void> {
  const quoted = `"${schema}"`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Another server's migration may hold the lock for a while; wait for it rather than
    // fail, up to the lock timeout. A migration itself runs as long as it must: building an
    // index over a long log can take longer than any statement timeout chosen for appends.
    await client.query(`SET LOCAL statement_timeout = 0`);
    await client.query(`SET LOCAL lock_timeout = '5min'`);
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('eventstore migrations'), hashtext($1))`, [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.schema_migrations`);
    const done = new Set(applied.rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql(quoted, notificationChannel(schema)));
      await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, idempotency ledger, append-only guard',
    sql: (s) => `
      -- CACHE 1 (the default, spelled out): with a cache, each session would hand out
      -- numbers from its own block, out of time order across sessions.
      CREATE SEQUENCE ${s}.global_position AS bigint START 1 CACHE 1;

      CREATE TABLE ${s}.events (
        global_position     bigint PRIMARY KEY,
        tenant_id           text NOT NULL,
        aggregate_id        text NOT NULL,
        aggregate_type      text NOT NULL,
        version             bigint NOT NULL CHECK (version >= 1),
        event_id            text NOT NULL,
        event_type          text NOT NULL,
        event_version       bigint NOT NULL,
        content_type        text NOT NULL,
        content_schema      text,
        correlation_id      text,
        causation_id        text,
        actor_id            text,
        client_timestamp_ms bigint,
        payload_sha256      bytea,
        headers             jsonb,
        payload             bytea NOT NULL,
        recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT events_stream_version_key UNIQUE (tenant_id, aggregate_id, version),
        CONSTRAINT events_event_id_key UNIQUE (tenant_id, event_id)
      );
      -- What subscriptions page through: one tenant's log in global order.
      CREATE INDEX events_tenant_position_idx ON ${s}.events (tenant_id, global_position);

      CREATE TABLE ${s}.idempotency_keys (
        tenant_id            text NOT NULL,
        aggregate_id         text NOT NULL,
        idempotency_key      text NOT NULL,
        fingerprint          text NOT NULL,
        last_version         bigint NOT NULL,
        last_global_position bigint NOT NULL,
        recorded_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (tenant_id, aggregate_id, idempotency_key)
      );

      -- History is never rewritten: the database itself refuses, whoever asks.
      CREATE FUNCTION ${s}.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % on %.events refused', TG_OP, TG_TABLE_SCHEMA
          USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ${s}.events
        FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_event_change();
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ${s}.events
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_event_change();`,
  },
  {
    version: 2,
    name: 'append_events: one round trip per append',
    sql: (s, channel) => `
      CREATE FUNCTION ${s}.append_events(
        p_tenant_id text, p_aggregate_id text, p_aggregate_type text, p_expected_version bigint,
        p_idempotency_key text, p_fingerprint text,
        p_event_ids text[], p_event_types text[], p_event_versions bigint[], p_content_types text[],
        p_payloads bytea[], p_content_schemas text[], p_correlation_ids text[], p_causation_ids text[],
        p_actor_ids text[], p_client_timestamps_ms bigint[], p_payload_sha256s bytea[], p_headers jsonb[]
      ) RETURNS TABLE (outcome text, last_version bigint, last_global_position bigint, stream_type text)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        batch_size integer := cardinality(p_event_ids);
        ledger record;
        head record;
        positions bigint[];
        committed_at timestamptz;
      BEGIN
        -- Every query below must see what the previous holder of the lock committed.
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'append_events needs READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;

        -- Why a per-tenant lock, held to commit: positions come from a sequence in the order
        -- transactions ask, but transactions commit in their own order; a subscriber reading
        -- "position > last seen" could step over one that commits a moment later. Under this
        -- lock a tenant's appends take positions and commit one after another, so a
        -- subscriber (always filtered by tenant) never sees a later position before an
        -- earlier one, and its cursor stays one number. The lock is database-wide, so it holds
        -- across server processes. Taken first, it also makes the checks below race-free.
        -- The cost: one tenant commits one append at a time; tenants do not wait on each other.
        PERFORM pg_advisory_xact_lock(hashtextextended(${literal(s)} || '/' || p_tenant_id, 0));

        -- Idempotency before the version check: a retried batch gets its first answer even
        -- after the stream has moved on.
        IF p_idempotency_key IS NOT NULL THEN
          SELECT * INTO ledger FROM ${s}.idempotency_keys k
           WHERE k.tenant_id = p_tenant_id AND k.aggregate_id = p_aggregate_id AND k.idempotency_key = p_idempotency_key;
          IF FOUND THEN
            RETURN QUERY SELECT CASE WHEN ledger.fingerprint = p_fingerprint THEN 'replayed' ELSE 'key-reused' END,
                                ledger.last_version, ledger.last_global_position, NULL::text;
            RETURN;
          END IF;
        END IF;

        SELECT e.version, e.global_position, e.aggregate_type INTO head FROM ${s}.events e
         WHERE e.tenant_id = p_tenant_id AND e.aggregate_id = p_aggregate_id ORDER BY e.version DESC LIMIT 1;
        IF coalesce(head.version, 0) <> p_expected_version THEN
          RETURN QUERY SELECT 'conflict', coalesce(head.version, 0), coalesce(head.global_position, 0), head.aggregate_type;
          RETURN;
        END IF;
        IF head.aggregate_type IS NOT NULL AND head.aggregate_type <> p_aggregate_type THEN
          RETURN QUERY SELECT 'type-mismatch', head.version, head.global_position, head.aggregate_type;
          RETURN;
        END IF;

        -- Read under the lock, so a tenant's commit times rise with its positions.
        committed_at := clock_timestamp();
        -- Sorted, so positions rise with versions whatever order the rows were numbered in.
        SELECT array_agg(n ORDER BY n) INTO positions
          FROM (SELECT nextval('${s}.global_position') AS n FROM generate_series(1, batch_size)) numbered;

        INSERT INTO ${s}.events (global_position, tenant_id, aggregate_id, aggregate_type, version, event_id,
          event_type, event_version, content_type, content_schema, correlation_id, causation_id, actor_id,
          client_timestamp_ms, payload_sha256, headers, payload, recorded_at)
        SELECT positions[b.i], p_tenant_id, p_aggregate_id, p_aggregate_type, p_expected_version + b.i, b.event_id,
          b.event_type, b.event_version, b.content_type, b.content_schema, b.correlation_id, b.causation_id, b.actor_id,
          b.client_timestamp_ms, b.payload_sha256, b.headers, b.payload, committed_at
        FROM unnest(p_event_ids, p_event_types, p_event_versions, p_content_types, p_payloads, p_content_schemas,
          p_correlation_ids, p_causation_ids, p_actor_ids, p_client_timestamps_ms, p_payload_sha256s, p_headers)
          WITH ORDINALITY AS b(event_id, event_type, event_version, content_type, payload, content_schema,
          correlation_id, causation_id, actor_id, client_timestamp_ms, payload_sha256, headers, i);

        IF p_idempotency_key IS NOT NULL THEN
          INSERT INTO ${s}.idempotency_keys (tenant_id, aggregate_id, idempotency_key, fingerprint, last_version, last_global_position)
          VALUES (p_tenant_id, p_aggregate_id, p_idempotency_key, p_fingerprint, p_expected_version + batch_size, positions[batch_size]);
        END IF;

        -- Delivered at commit, to every listening server. Tiny on purpose: listeners read the
        -- events from the table. A tenant id too long for a payload wakes every subscriber.
        PERFORM pg_notify('${channel}',
          positions[batch_size] || ' ' || CASE WHEN octet_length(p_tenant_id) <= 1000 THEN p_tenant_id ELSE '' END);
        RETURN QUERY SELECT 'appended', p_expected_version + batch_size, positions[batch_size], p_aggregate_type;
      END $$;`,
  },
  {
    // append_events and the idempotency_keys table stay for servers of the previous version
    // still running during an upgrade: both versions take the same tenant locks, so they can
    // share the log meanwhile (a key one version recorded, the other does not see).
    version: 3,
    name: 'append_batch: many appends in one transaction, NOTIFY after commit, keys on their events',
    sql: (s) => `
      -- An idempotency key now lives on the last event of the append it keyed: no ledger row
      -- per command, nothing ever deleted (no bloat), and the answer a resend gets is that
      -- event's version and position. Which hash made the fingerprint is kept beside it.
      ALTER TABLE ${s}.events ADD COLUMN idempotency_key text, ADD COLUMN fingerprint text,
        ADD COLUMN fingerprint_algorithm text;
      CREATE INDEX events_idempotency_key_idx ON ${s}.events (tenant_id, aggregate_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      -- Keys of the last day (the default retention) move onto their events, so a resend
      -- just after the upgrade still gets its first answer. The one update history allows.
      ALTER TABLE ${s}.events DISABLE TRIGGER events_append_only;
      UPDATE ${s}.events e SET idempotency_key = k.idempotency_key, fingerprint = k.fingerprint, fingerprint_algorithm = 'sha256/v1'
        FROM ${s}.idempotency_keys k
       WHERE e.global_position = k.last_global_position AND k.recorded_at > now() - interval '1 day';
      ALTER TABLE ${s}.events ENABLE TRIGGER events_append_only;
      ${appendBatchFunction(s, literal(s))}`,
  },
  {
    // The lookup of a key had no index that served both its filter and its order, and a
    // plan made on a small table walked the tenant's whole log backwards for every keyed
    // append: the index now ends with the position it is ordered by.
    version: 4,
    name: 'append_batch: plans made once, every lookup answered by one index',
    sql: (s) => `
      DROP INDEX IF EXISTS ${s}.events_idempotency_key_idx;
      CREATE INDEX events_idempotency_key_idx ON ${s}.events (tenant_id, aggregate_id, idempotency_key, global_position)
        WHERE idempotency_key IS NOT NULL;
      ${appendBatchFunction(s, literal(s))}`,
  },
];

/** The quoted schema name as an SQL string literal, for lock keys. */
function literal(quotedSchema: string): string {
  return `'${quotedSchema.replaceAll("'", "''")}'`;
}
