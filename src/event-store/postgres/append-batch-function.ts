// The SQL function behind group commit on the write side: a whole batch of appends, from any
// number of tenants, in one statement, one transaction and one WAL flush instead of one each.
// Each append still gets its own outcome, as if it had been sent alone, in queue order.

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

/**
 * The common case, where no two appends in the batch touch one stream or share an event id:
 * each check, and each insert, is one statement for the whole batch rather than one per
 * append. The outcomes are those the one-by-one loop would give; when it is not that case,
 * the loop gives them.
 */
function setPath(s: string, lockNamespace: string): string {
  return `
    -- The append each event belongs to (1-based, in queue order).
    event_appends := ARRAY(SELECT u.ai FROM unnest(p_event_counts) WITH ORDINALITY u(c, ai), generate_series(1, u.c) ORDER BY u.ai);
    -- (An event id given twice needs no check of its own: the insert below finds it.)
    IF (SELECT count(DISTINCT (t, a)) FROM unnest(p_tenant_ids, p_aggregate_ids) x(t, a)) = cardinality(p_tenant_ids) THEN
      SELECT array_agg(CASE
          WHEN NOT hashtextextended(${lockNamespace} || '/' || b.t_id, 0) = ANY (locked) THEN 'busy'
          WHEN k.fingerprint IS NOT NULL THEN CASE WHEN ${sameBatch('k', 'b.fp')} THEN 'replayed' ELSE 'key-reused' END
          WHEN coalesce(h.version, 0) <> b.exp_v THEN 'conflict'
          WHEN h.aggregate_type <> b.a_type THEN 'type-mismatch'
          ELSE 'appended' END ORDER BY b.ai)
        INTO outcomes
        FROM unnest(p_tenant_ids, p_aggregate_ids, p_aggregate_types, p_expected_versions, p_idempotency_keys,
                    p_fingerprints) WITH ORDINALITY b(t_id, a_id, a_type, exp_v, idem, fp, ai)
        LEFT JOIN LATERAL (${keyedEvent(s, 'b.t_id', 'b.a_id', 'b.idem')}) k ON true
        LEFT JOIN LATERAL (SELECT e.version, e.aggregate_type FROM ${s}.events e
                            WHERE e.tenant_id = b.t_id AND e.aggregate_id = b.a_id ORDER BY e.version DESC LIMIT 1) h ON true;

      committed_at := clock_timestamp();
      -- Sorted, so positions rise with queue order and versions whatever order they were numbered in.
      positions := ARRAY(SELECT nextval('${s}.global_position') FROM unnest(event_appends) ai WHERE outcomes[ai] = 'appended' ORDER BY 1);

      -- An event id the tenant already has is not looked for first: the unique index finds
      -- it while inserting. Should it, the insert is undone and the loop below sorts out
      -- which append it was (the positions taken are left as a gap).
      BEGIN
        INSERT INTO ${s}.events (${EVENT_COLUMNS})
        SELECT positions[row_number() OVER (ORDER BY v.ej)], p_tenant_ids[v.ai], p_aggregate_ids[v.ai], p_aggregate_types[v.ai],
          p_expected_versions[v.ai] + row_number() OVER (PARTITION BY v.ai ORDER BY v.ej), v.event_id,
          v.event_type, v.event_version, v.content_type, v.content_schema, v.correlation_id, v.causation_id, v.actor_id,
          v.client_timestamp_ms, v.payload_sha256, v.headers, v.payload, committed_at,
          CASE WHEN v.last THEN p_idempotency_keys[v.ai] END,
          CASE WHEN v.last THEN p_fingerprints[v.ai] END,
          CASE WHEN v.last AND p_idempotency_keys[v.ai] IS NOT NULL THEN p_fingerprint_algorithm END
        FROM (SELECT u.*, lead(u.ai) OVER (ORDER BY u.ej) IS DISTINCT FROM u.ai AS last FROM unnest(p_event_ids, p_event_types, p_event_versions, p_content_types, p_payloads, p_content_schemas,
          p_correlation_ids, p_causation_ids, p_actor_ids, p_client_timestamps_ms, p_payload_sha256s, p_headers, event_appends)
          WITH ORDINALITY AS u(event_id, event_type, event_version, content_type, payload, content_schema,
          correlation_id, causation_id, actor_id, client_timestamp_ms, payload_sha256, headers, ai, ej)) v
        WHERE outcomes[v.ai] = 'appended';
      EXCEPTION WHEN unique_violation THEN
        outcomes := NULL;
      END;
    END IF;

    IF outcomes IS NOT NULL THEN
      -- Each append's answer: an appended one's last position is that of its last event
      -- among all appended events, counted in queue order.
      RETURN QUERY
        WITH answered AS (
          SELECT b.*, outcomes[b.ai] AS outcome,
                 sum(CASE WHEN outcomes[b.ai] = 'appended' THEN b.cnt ELSE 0 END) OVER (ORDER BY b.ai) AS appended_so_far
            FROM unnest(p_tenant_ids, p_aggregate_ids, p_aggregate_types, p_expected_versions, p_idempotency_keys,
                        p_fingerprints, p_event_counts) WITH ORDINALITY b(t_id, a_id, a_type, exp_v, idem, fp, cnt, ai)
        )
        SELECT a.ai::integer, a.outcome,
               CASE a.outcome WHEN 'busy' THEN NULL WHEN 'appended' THEN a.exp_v + a.cnt
                 WHEN 'replayed' THEN k.version WHEN 'key-reused' THEN k.version ELSE coalesce(h.version, 0) END,
               CASE a.outcome WHEN 'busy' THEN NULL WHEN 'appended' THEN positions[a.appended_so_far]
                 WHEN 'replayed' THEN k.global_position WHEN 'key-reused' THEN k.global_position
                 ELSE coalesce(h.global_position, 0) END,
               CASE WHEN a.outcome = 'appended' THEN a.a_type ELSE h.aggregate_type END
          FROM answered a
          LEFT JOIN LATERAL (${keyedEvent(s, 'a.t_id', 'a.a_id', 'a.idem')}) k ON a.outcome IN ('replayed', 'key-reused')
          LEFT JOIN LATERAL (SELECT e.version, e.global_position, e.aggregate_type FROM ${s}.events e
                              WHERE a.outcome NOT IN ('busy', 'appended', 'replayed', 'key-reused')
                                AND e.tenant_id = a.t_id AND e.aggregate_id = a.a_id ORDER BY e.version DESC LIMIT 1) h ON true
         ORDER BY a.ai;
      RETURN;
    END IF;`;
}

/** Every column an append writes, in the order both inserts give them. */
const EVENT_COLUMNS = `global_position, tenant_id, aggregate_id, aggregate_type, version, event_id, event_type, event_version,
  content_type, content_schema, correlation_id, causation_id, actor_id, client_timestamp_ms, payload_sha256, headers, payload,
  recorded_at, idempotency_key, fingerprint, fingerprint_algorithm`;

/**
 * The event that carries an idempotency key for a stream, if it is younger than the
 * retention: older keys are forgotten. Its version and position are the first answer.
 * The index on (tenant, stream, key, position) answers it with one probe; a key older than
 * the retention may have been used again since, hence the latest.
 */
function keyedEvent(s: string, tenant: string, aggregate: string, key: string): string {
  return `SELECT e.version, e.global_position, e.fingerprint, e.fingerprint_algorithm FROM ${s}.events e
     WHERE e.tenant_id = ${tenant} AND e.aggregate_id = ${aggregate} AND e.idempotency_key = ${key}
       AND e.recorded_at > now() - p_key_retention
     ORDER BY e.global_position DESC LIMIT 1`;
}

/**
 * Any event of the tenant that already has one of these ids. Looked up id by id (a LATERAL
 * with LIMIT is never turned into a join), so that the unique (tenant_id, event_id) index
 * answers each: matched with \`= ANY\` or joined, a plan made on a small table read the
 * tenant's whole log instead.
 */
function takenEventId(s: string, tenant: string, eventIds: string): string {
  return `SELECT 1 FROM unnest(${eventIds}) AS wanted(event_id),
                  LATERAL (SELECT 1 FROM ${s}.events e WHERE e.tenant_id = ${tenant} AND e.event_id = wanted.event_id LIMIT 1) taken`;
}

/** Whether a keyed event was written by the very batch now resent: same fingerprint, same algorithm. */
function sameBatch(keyed: string, fingerprint: string): string {
  return `${keyed}.fingerprint_algorithm = p_fingerprint_algorithm AND ${keyed}.fingerprint = ${fingerprint}`;
}
