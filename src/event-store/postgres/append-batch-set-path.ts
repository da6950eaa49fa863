// The set path of append_batch (see append-batch-function.ts): the usual batch, whose appends
// share no stream, checked and inserted by one statement per step for all of them.

import { EVENT_COLUMNS, keyedEvent, sameBatch } from './append-batch-sql.ts';

/**
 * The common case, where no two appends in the batch touch one stream or share an event id:
 * each check, and each insert, is one statement for the whole batch rather than one per
 * append. The outcomes are those the one-by-one loop would give; when it is not that case,
 * the loop gives them.
 */
export function setPath(s: string, lockNamespace: string): string {
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
