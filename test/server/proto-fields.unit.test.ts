// The .proto against the spec's table: every `eventstore.v1` field with its number and
// type, since other SDKs and servers of this public protocol rely on exactly these.

import { describe, expect, it } from 'vitest';
import { messageType } from '../event-store/grpc/plain-client.ts';

describe('eventstore.v1 messages', () => {
  it.each(Object.entries(specTable()))('%s has the fields of the spec, numbered as it says', (name, fields) => {
    expect(fieldsOf(`eventstore.v1.${name}`)).toEqual(fields);
  });

  it('has google.rpc.Status as the richer error model defines it', () => {
    expect(fieldsOf('google.rpc.Status')).toEqual(['1 code int32', '2 message string', '3 details repeated Any']);
  });
});

// ---- fixtures -------------------------------------------------------------------------

/** The spec's tables, one "number name type" line per field. */
function specTable(): Record<string, string[]> {
  return {
    EventMetadata: [
      '1 event_id string',
      '2 aggregate_id string',
      '3 aggregate_type string',
      '4 aggregate_nonce uint64',
      '5 event_type string',
      '6 event_version uint32',
      '7 content_type string',
      '8 content_schema string',
      '9 correlation_id string',
      '10 causation_id string',
      '11 actor_id string',
      '12 tenant_id string',
      '13 timestamp_unix_ms uint64',
      '14 recorded_time_unix_ms uint64',
      '15 payload_sha256 bytes',
      '16 headers map<string,string>',
      '17 global_nonce uint64',
    ],
    EventData: ['1 meta EventMetadata', '2 payload bytes'],
    AppendRequest: [
      '1 tenant_id string',
      '2 aggregate_id string',
      '3 aggregate_type string',
      '4 expected_aggregate_nonce uint64',
      '5 idempotency_key string',
      '6 events repeated EventData',
    ],
    AppendResponse: ['1 last_global_nonce uint64', '2 last_aggregate_nonce uint64'],
    ReadStreamRequest: ['1 tenant_id string', '2 aggregate_id string', '3 from_aggregate_nonce uint64', '4 max_count uint32', '5 forward bool'],
    ReadStreamResponse: ['1 events repeated EventData', '2 is_end bool', '3 next_from_aggregate_nonce uint64'],
    SubscribeRequest: ['1 tenant_id string', '2 aggregate_id_prefix string', '3 from_global_nonce uint64'],
    SubscribeResponse: ['1 event EventData'],
    ConcurrencyErrorDetail: [
      '1 tenant_id string',
      '2 aggregate_id string',
      '3 actual_last_aggregate_nonce uint64',
      '4 actual_last_global_nonce uint64',
    ],
  };
}

/**
 * The message's fields as proto-loader's descriptor describes them, in the table's words.
 * The descriptor names message types relative to the package, so the table does too.
 */
function fieldsOf(name: string): string[] {
  const descriptor: unknown = messageType(name).type;
  if (!isObject(descriptor)) throw new Error(`${name}: no descriptor`);
  const nested = list(descriptor.nestedType);
  return list(descriptor.field).map((field) => {
    const mapEntry = nested.find((type) => type.name === field.typeName && isObject(type.options) && type.options.mapEntry === true);
    const [key, value] = list(mapEntry?.field).map(typeOf);
    const shown = mapEntry ? `map<${key},${value}>` : field.label === 'LABEL_REPEATED' ? `repeated ${typeOf(field)}` : typeOf(field);
    return `${String(field.number)} ${String(field.name)} ${shown}`;
  });
}

function typeOf(field: Record<string, unknown>): string {
  if (field.type === 'TYPE_MESSAGE') return String(field.typeName).split('.').at(-1) ?? '';
  return String(field.type).replace(/^TYPE_/, '').toLowerCase();
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
