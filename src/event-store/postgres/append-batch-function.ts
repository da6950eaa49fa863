// The SQL function behind group commit on the write side: a whole batch of appends, from any
// number of tenants, in one statement, one transaction and one WAL flush instead of one each.
// Each append still gets its own outcome, as if it had been sent alone, in queue order.

import { EVENT_COLUMNS, keyedEvent, sameBatch, takenEventId } from './append-batch-sql.ts';
import { setPath } from './append-batch-set-path.ts';

/** The function's SQL, for the migration that creates it; `s` is the quoted schema name. */
export function appendBatchFunction(s: string, lockNamespace: string): string {
  return `
  CREATE OR REPLACE FUNCTION ${s}.append_batch(
    p_wait boolean, p_key_retention interval, p_fingerprint_algorithm text,
    -- One element per append, in queue order.
    p_tenant_ids text[], p_aggregate_ids text[], p_aggregate_types text[], p_expected_versions bigint[],
    p_idempotency_keys text[], p_fingerprints text[], p_event_counts integer[],
    -- One element per event, the appends' events one after the other.
    p_event_ids text[], p_event_types text[], p_event_versions bigint[], p_content_types text[],
    p_payloads bytea[], p_content_schemas text[], p_correlation_ids text[], p_causation_ids text[],
    p_actor_ids text[], p_client_timestamps_ms bigint[], p_payload_sha256s bytea[], p_headers jsonb[]
  ) RETURNS TABLE (append_index integer, outcome text, last_version bigint, last_global_position bigint, stream_type text)
  LANGUAGE plpgsql VOLATILE
  -- Each query's plan is made once per connection and kept, whatever the arrays hold:
  -- planning again on every call cost twice what running the queries does. The queries are
  -- written so that one index answers each of them exactly (all of its columns matched by
  -- equality, the order by its last), so a plan made while the table was still small is
  -- still the right one when it is large.
  SET plan_cache_mode = force_generic_plan
  AS $$
  DECLARE
    locked bigint[] := '{}';
    lock_key bigint;
    next_event integer := 1;
    first_event integer;
    last_event integer;
    tenant text;
    aggregate text;
    expected bigint;
    event_count integer;
    ledger record;
    head record;
    positions bigint[];
    committed_at timestamptz;
    event_appends integer[];
    outcomes text[];
  BEGIN
    -- Every query below must see what the previous holder of a tenant lock committed.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'append_batch needs READ COMMITTED, not %', current_setting('transaction_isolation');
    END IF;

    -- Why per-tenant locks, held to commit: positions come from a sequence in the order
    -- transactions ask, but transactions commit in their own order; a subscriber reading
    -- "position > last seen" could step over one that commits a moment later. Under the lock
    -- a tenant's appends take positions and commit one after another, so a subscriber
    -- (always filtered by tenant) never sees a later position before an earlier one, and its
    -- cursor stays one number. The locks are database-wide, so they hold across servers.
    -- Taken in sorted order, so two batches sharing tenants cannot wait on each other in a
    -- cycle. Without p_wait a lock another transaction holds is not waited for: that
    -- tenant's appends answer 'busy' and the server sends them again in a batch of their own
    -- that waits, so one contended tenant never holds up the others in this batch.
    FOR lock_key IN
      SELECT DISTINCT hashtextextended(${lockNamespace} || '/' || t, 0) FROM unnest(p_tenant_ids) t ORDER BY 1
    LOOP
      IF p_wait THEN
        PERFORM pg_advisory_xact_lock(lock_key);
        locked := locked || lock_key;
      ELSIF pg_try_advisory_xact_lock(lock_key) THEN
        locked := locked || lock_key;
      END IF;
    END LOOP;

${setPath(s, lockNamespace)}

    -- Appends that depend on one another (one stream twice, an event id twice), one by
    -- one in queue order, so that each sees what the ones before it did.
    FOR i IN 1 .. cardinality(p_tenant_ids) LOOP
      tenant := p_tenant_ids[i];
      aggregate := p_aggregate_ids[i];
      expected := p_expected_versions[i];
      event_count := p_event_counts[i];
      first_event := next_event;
      last_event := first_event + event_count - 1;
      next_event := last_event + 1;

      IF NOT hashtextextended(${lockNamespace} || '/' || tenant, 0) = ANY (locked) THEN
        RETURN QUERY SELECT i, 'busy', NULL::bigint, NULL::bigint, NULL::text;
        CONTINUE;
      END IF;

      -- Idempotency before the version check: a retried batch gets its first answer even
      -- after the stream has moved on.
      IF p_idempotency_keys[i] IS NOT NULL THEN
        SELECT * INTO ledger FROM (${keyedEvent(s, 'tenant', 'aggregate', 'p_idempotency_keys[i]')}) k;
        IF FOUND THEN
          RETURN QUERY SELECT i, CASE WHEN ${sameBatch('ledger', 'p_fingerprints[i]')} THEN 'replayed' ELSE 'key-reused' END,
                              ledger.version, ledger.global_position, NULL::text;
          CONTINUE;
        END IF;
      END IF;

      SELECT e.version, e.global_position, e.aggregate_type INTO head FROM ${s}.events e
       WHERE e.tenant_id = tenant AND e.aggregate_id = aggregate ORDER BY e.version DESC LIMIT 1;
      IF coalesce(head.version, 0) <> expected THEN
        RETURN QUERY SELECT i, 'conflict', coalesce(head.version, 0), coalesce(head.global_position, 0), head.aggregate_type;
        CONTINUE;
      END IF;
      IF head.aggregate_type IS NOT NULL AND head.aggregate_type <> p_aggregate_types[i] THEN
        RETURN QUERY SELECT i, 'type-mismatch', head.version, head.global_position, head.aggregate_type;
        CONTINUE;
      END IF;
      -- Checked rather than caught: here, a unique violation would undo every append of the
      -- batch, and a subtransaction per append to contain it costs on every append (the set
      -- path above pays one per batch). Race-free under the lock.
      IF EXISTS (${takenEventId(s, 'tenant', 'p_event_ids[first_event:last_event]')}) THEN
        RETURN QUERY SELECT i, 'duplicate-event-id', coalesce(head.version, 0), coalesce(head.global_position, 0), head.aggregate_type;
        CONTINUE;
      END IF;

      -- Read under the lock, so a tenant's commit times rise with its positions.
      committed_at := clock_timestamp();
      -- Sorted, so positions rise with versions whatever order the rows were numbered in.
      SELECT array_agg(n ORDER BY n) INTO positions
        FROM (SELECT nextval('${s}.global_position') AS n FROM generate_series(1, event_count)) numbered;

      INSERT INTO ${s}.events (${EVENT_COLUMNS})
      SELECT positions[b.n], tenant, aggregate, p_aggregate_types[i], expected + b.n, b.event_id,
        b.event_type, b.event_version, b.content_type, b.content_schema, b.correlation_id, b.causation_id, b.actor_id,
        b.client_timestamp_ms, b.payload_sha256, b.headers, b.payload, committed_at,
        -- The key goes on the append's last event, whose version and position are its answer.
        CASE WHEN b.n = event_count THEN p_idempotency_keys[i] END,
        CASE WHEN b.n = event_count THEN p_fingerprints[i] END,
        CASE WHEN b.n = event_count AND p_idempotency_keys[i] IS NOT NULL THEN p_fingerprint_algorithm END
      FROM unnest(p_event_ids[first_event:last_event], p_event_types[first_event:last_event],
        p_event_versions[first_event:last_event], p_content_types[first_event:last_event], p_payloads[first_event:last_event],
        p_content_schemas[first_event:last_event], p_correlation_ids[first_event:last_event],
        p_causation_ids[first_event:last_event], p_actor_ids[first_event:last_event],
        p_client_timestamps_ms[first_event:last_event], p_payload_sha256s[first_event:last_event],
        p_headers[first_event:last_event])
        WITH ORDINALITY AS b(event_id, event_type, event_version, content_type, payload, content_schema,
        correlation_id, causation_id, actor_id, client_timestamp_ms, payload_sha256, headers, n);

      RETURN QUERY SELECT i, 'appended', expected + event_count, positions[event_count], p_aggregate_types[i];
    END LOOP;
  END $$;`;
}
