// The `eventstore.v1` contract loaded at run time: the service's methods for the server and
// the client, and the richer error model that carries a conflict's actual stream head.

import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { AnyDefinition, MessageTypeDefinition, MethodDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { Fields } from './fields.ts';

const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

/**
 * Decoded messages keep the proto's snake_case names, carry 64-bit integers as numbers and
 * always have every field, defaults included, so absence and zero read the same. A number
 * rounds only past Number.MAX_SAFE_INTEGER, where it stays past it, and `Fields` refuses
 * those: decimal strings were as safe and cost a catch-up an eighth of the client's time
 * (each value made a string digit by digit, then parsed back).
 */
export const packageDefinition: PackageDefinition = loadSync(['eventstore/v1/eventstore.proto', 'google/rpc/status.proto'], {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
});

export const SERVICE_NAME = 'eventstore.v1.EventStore';

export const eventStoreService: ServiceDefinition = serviceDefinition(SERVICE_NAME);

export const methods = {
  append: method('Append'),
  readStream: method('ReadStream'),
  subscribe: method('Subscribe'),
} as const;

/** The metadata key of the standard richer error model. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
export const CONCURRENCY_DETAIL_TYPE_URL = 'type.googleapis.com/eventstore.v1.ConcurrencyErrorDetail';

export interface ConcurrencyDetail {
  readonly tenantId: string;
  readonly aggregateId: string;
  readonly actualVersion: number;
  readonly actualGlobalPosition: number;
}

const statusType = messageType('google.rpc.Status');
const concurrencyDetailType = messageType('eventstore.v1.ConcurrencyErrorDetail');

/** A `google.rpc.Status` holding the detail as an `Any`: the value of `grpc-status-details-bin`. */
export function encodeConcurrencyStatus(status: { code: number; message: string }, detail: ConcurrencyDetail): Buffer {
  const value = concurrencyDetailType.serialize({
    tenant_id: detail.tenantId,
    aggregate_id: detail.aggregateId,
    actual_last_aggregate_nonce: detail.actualVersion,
    actual_last_global_nonce: detail.actualGlobalPosition,
  });
  return statusType.serialize({ ...status, details: [{ type_url: CONCURRENCY_DETAIL_TYPE_URL, value }] });
}

/** The conflict detail inside a `grpc-status-details-bin` value, if it holds one. */
export function decodeConcurrencyStatus(bytes: Buffer): ConcurrencyDetail | undefined {
  const status = Fields.of(statusType.deserialize(bytes), 'google.rpc.Status');
  for (const any of status.messages('details')) {
    if (any.string('type_url') !== CONCURRENCY_DETAIL_TYPE_URL) continue;
    const detail = Fields.of(concurrencyDetailType.deserialize(asBuffer(any.bytes('value'))), 'ConcurrencyErrorDetail');
    return {
      tenantId: detail.string('tenant_id'),
      aggregateId: detail.string('aggregate_id'),
      actualVersion: detail.uint64('actual_last_aggregate_nonce'),
      actualGlobalPosition: detail.uint64('actual_last_global_nonce'),
    };
  }
  return undefined;
}

function serviceDefinition(name: string): ServiceDefinition {
  const definition = packageDefinition[name];
  if (definition === undefined || 'format' in definition) throw new Error(`${name} is not a service in the loaded protos`);
  return definition;
}

function method(name: string): MethodDefinition<object, object> {
  const definition = eventStoreService[name];
  if (definition === undefined) throw new Error(`${SERVICE_NAME} has no method ${name}`);
  return definition;
}

function messageType(name: string): MessageTypeDefinition<object, object> {
  const definition = packageDefinition[name];
  if (definition === undefined || !isMessageType(definition)) throw new Error(`${name} is not a message in the loaded protos`);
  return definition;
}

function isMessageType(definition: AnyDefinition): definition is MessageTypeDefinition<object, object> {
  return definition.format === 'Protocol Buffer 3 DescriptorProto';
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
