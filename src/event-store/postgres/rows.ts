// The border between PostgreSQL rows and the port's types: every row the store reads is
// checked and converted here, once, so the rest of the store works with typed values.

import type { RecordedEvent } from '../event-store.ts';

export type Row = Readonly<Record<string, unknown>>;

/**
 * The columns every event read selects, in the shape `toRecordedEvent` expects. A page cut
 * by bytes passes its own `payload` expression, so rows past the cut never send theirs.
 */
export function eventColumns(payload = 'e.payload'): string {
  return `e.global_position, e.tenant_id, e.aggregate_id, e.aggregate_type, e.version, e.event_id,
  e.event_type, e.event_version, e.content_type, e.content_schema, e.correlation_id, e.causation_id, e.actor_id,
  e.client_timestamp_ms, e.payload_sha256, e.headers, ${payload} AS payload,
  floor(extract(epoch FROM e.recorded_at) * 1000)::bigint AS recorded_at_ms`;
}

export function toRecordedEvent(row: Row): RecordedEvent {
  return {
    eventId: text(row, 'event_id'),
    eventType: text(row, 'event_type'),
    eventVersion: bigintColumn(row, 'event_version'),
    contentType: text(row, 'content_type'),
    payload: bytes(row, 'payload'),
    // Absent optional fields stay absent, as the writer left them.
    ...present('contentSchema', optionalText(row, 'content_schema')),
    ...present('correlationId', optionalText(row, 'correlation_id')),
    ...present('causationId', optionalText(row, 'causation_id')),
    ...present('actorId', optionalText(row, 'actor_id')),
    ...present('clientTimestampMs', row['client_timestamp_ms'] === null ? undefined : bigintColumn(row, 'client_timestamp_ms')),
    ...present('payloadSha256', row['payload_sha256'] === null ? undefined : bytes(row, 'payload_sha256')),
    ...present('headers', row['headers'] === null ? undefined : headers(row)),
    tenantId: text(row, 'tenant_id'),
    stream: { aggregateType: text(row, 'aggregate_type'), aggregateId: text(row, 'aggregate_id') },
    version: bigintColumn(row, 'version'),
    globalPosition: bigintColumn(row, 'global_position'),
    recordedAtMs: bigintColumn(row, 'recorded_at_ms'),
  };
}

function present<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}

/** pg hands bigint columns over as strings, since not every bigint fits a JS number. */
export function bigintColumn(row: Row, column: string): number {
  const value = row[column];
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isSafeInteger(number)) {
    throw new Error(`column ${column}: ${String(value)} is not a whole number up to ${Number.MAX_SAFE_INTEGER}`);
  }
  return number;
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`column ${column}: expected text, got ${typeof value}`);
  return value;
}

export function optionalText(row: Row, column: string): string | undefined {
  return row[column] === null ? undefined : text(row, column);
}

function bytes(row: Row, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw new Error(`column ${column}: expected bytes, got ${typeof value}`);
  return value;
}

function headers(row: Row): Record<string, string> {
  const value = row['headers'];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('column headers: expected a JSON object');
  const entries = Object.entries(value);
  if (!entries.every(([, v]) => typeof v === 'string')) throw new Error('column headers: expected string values');
  return Object.fromEntries(entries) as Record<string, string>;
}
