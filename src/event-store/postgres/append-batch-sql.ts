// Pieces of SQL both paths of append_batch share (append-batch-function.ts runs appends one
// by one, append-batch-set-path.ts the whole batch at once): the columns an append writes and
// the lookups each path makes per append, each answered by one index.

/** Every column an append writes, in the order both inserts give them. */
export const EVENT_COLUMNS = `global_position, tenant_id, aggregate_id, aggregate_type, version, event_id, event_type, event_version,
  content_type, content_schema, correlation_id, causation_id, actor_id, client_timestamp_ms, payload_sha256, headers, payload,
  recorded_at, idempotency_key, fingerprint, fingerprint_algorithm`;

/**
 * The event that carries an idempotency key for a stream, if it is younger than the
 * retention: older keys are forgotten. Its version and position are the first answer.
 * The index on (tenant, stream, key, position) answers it with one probe; a key older than
 * the retention may have been used again since, hence the latest.
 */
export function keyedEvent(s: string, tenant: string, aggregate: string, key: string): string {
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
export function takenEventId(s: string, tenant: string, eventIds: string): string {
  return `SELECT 1 FROM unnest(${eventIds}) AS wanted(event_id),
                  LATERAL (SELECT 1 FROM ${s}.events e WHERE e.tenant_id = ${tenant} AND e.event_id = wanted.event_id LIMIT 1) taken`;
}

/** Whether a keyed event was written by the very batch now resent: same fingerprint, same algorithm. */
export function sameBatch(keyed: string, fingerprint: string): string {
  return `${keyed}.fingerprint_algorithm = p_fingerprint_algorithm AND ${keyed}.fingerprint = ${fingerprint}`;
}
