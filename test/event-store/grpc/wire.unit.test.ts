// The mapping between `eventstore.v1` messages and the port's types, without a network:
// what a client sends is what the server reads, and no 64-bit value is silently rounded.

import { describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../../src/event-store/event-store.ts';
import { InvalidRequestError } from '../../../src/event-store/errors.ts';
import { methods } from '../../../src/event-store/grpc/proto.ts';
import { appendRequestFromWire, appendRequestToWire, streamPageFromWire } from '../../../src/event-store/grpc/wire.ts';
import { account, newEvent } from '../contract.ts';

describe('the wire mapping', () => {
  it('reads back on the server exactly the append a client sent', () => {
    const request: AppendRequest = {
      tenantId: 'tenant-1',
      stream: account('acc-1'),
      expectedVersion: 4,
      idempotencyKey: 'key-1',
      events: [
        { ...newEvent(), correlationId: 'corr', clientTimestampMs: 1_700_000_000_000, headers: { a: 'b' }, payloadSha256: Buffer.from([7]) },
        newEvent(),
      ],
    };
    expect(appendRequestFromWire(overTheWire(appendRequestToWire(request)))).toEqual(request);
  });

  it('numbers each event of an append after the expected version', () => {
    const request = { tenantId: 't', stream: account('acc-1'), expectedVersion: 7, events: [newEvent(), newEvent()] };
    const decoded = methods.append.requestDeserialize(methods.append.requestSerialize(appendRequestToWire(request)));
    expect(JSON.stringify(decoded)).toMatch(/"aggregate_nonce":8,.*"aggregate_nonce":9,/);
  });

  it('refuses a 64-bit value a JavaScript number cannot hold, on either side', () => {
    const tooBig = '9007199254740993';
    const append = { ...appendRequestToWire({ tenantId: 't', stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] }) };
    expect(() => appendRequestFromWire(overTheWire({ ...append, expected_aggregate_nonce: tooBig }))).toThrow(InvalidRequestError);
    const page = methods.readStream.responseDeserialize(
      methods.readStream.responseSerialize({ events: [], is_end: true, next_from_aggregate_nonce: tooBig }),
    );
    expect(() => streamPageFromWire(page)).toThrow(/next_from_aggregate_nonce: about 9\.007e\+15, beyond 9007199254740991/);
    const largest = methods.readStream.responseDeserialize(
      methods.readStream.responseSerialize({ events: [], is_end: true, next_from_aggregate_nonce: '18446744073709551615' }),
    );
    expect(() => streamPageFromWire(largest)).toThrow(/beyond 9007199254740991/);
    const largestSafe = methods.readStream.responseDeserialize(
      methods.readStream.responseSerialize({ events: [], is_end: true, next_from_aggregate_nonce: String(Number.MAX_SAFE_INTEGER) }),
    );
    expect(streamPageFromWire(largestSafe).nextFromVersion).toBe(Number.MAX_SAFE_INTEGER);
  });
});

// ---- fixtures -------------------------------------------------------------------------

/** Serialized and decoded as the server receives an Append request. */
function overTheWire(message: object): unknown {
  return methods.append.requestDeserialize(methods.append.requestSerialize(message));
}
