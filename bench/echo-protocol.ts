// Bench floor: the bare gRPC service the floors are measured against, with no protobuf
// and no store: a unary echo and a server stream of raw bytes, both ends using grpc-js.

import type { ServiceDefinition } from '@grpc/grpc-js';

const identity = (bytes: Buffer): Buffer => bytes;

export const ECHO_SERVICE = {
  /** Answers with the request's own bytes. */
  echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  /** Sends `count` messages of `size` bytes, as fast as the reader takes them. */
  stream: {
    path: '/bench.Echo/Stream',
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} satisfies ServiceDefinition;

export interface StreamOrder {
  readonly count: number;
  readonly size: number;
}

export function encodeStreamOrder(order: StreamOrder): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32BE(order.count, 0);
  bytes.writeUInt32BE(order.size, 4);
  return bytes;
}

export function decodeStreamOrder(bytes: Buffer): StreamOrder {
  if (bytes.length !== 8) throw new Error(`a stream order is 8 bytes, got ${bytes.length}`);
  return { count: bytes.readUInt32BE(0), size: bytes.readUInt32BE(4) };
}
