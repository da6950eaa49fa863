// Test support for the hostile-input drill: a seeded generator of requests to every method,
// most of them malformed, mutated or oversized, a few valid ones whose writes the drill
// expects to find in the log afterwards, exactly.

import { messageType } from '../event-store/grpc/plain-client.ts';
import { seededRandom } from '../support/seeded-random.ts';

export type Method = 'Append' | 'ReadStream' | 'Subscribe';

export interface DrillCall {
  readonly method: Method;
  readonly bytes: Buffer;
  /** How the request was made, for a failure's message. */
  readonly kind: string;
  /** Set on valid appends: what they must write. */
  readonly writes?: { readonly aggregateId: string; readonly eventIds: readonly string[] };
  /** Set on valid reads and subscribes: they must succeed. */
  readonly mustSucceed: boolean;
}

export interface DrillTenants {
  /** Only valid requests write here, so its log is known exactly. */
  readonly valid: string;
  /** Everything hostile names this tenant (mutations may garble it further). */
  readonly hostile: string;
}

export function* drillCalls(seed: number, count: number, tenants: DrillTenants): Generator<DrillCall> {
  const random = seededRandom(seed);
  const below = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[below(items.length)] as T;
  let validStreams = 0;
  let eventCounter = 0;
  const eventId = (): string => `e-${seed}-${eventCounter++}`;

  const event = (tenant: string, aggregateId: string, nonce: number, extra: Record<string, unknown> = {}, payload = randomBytes(below(64))): object => ({
    meta: { event_id: eventId(), aggregate_id: aggregateId, aggregate_nonce: String(nonce), event_type: pick(['Opened', 'Noted', 'Closed']), event_version: 1, content_type: 'application/json', tenant_id: pick(['', tenant]), headers: below(3) === 0 ? { channel: 'web' } : {}, ...extra },
    payload,
  });
  const hostileAppend = (): Record<string, unknown> => {
    const aggregate_id = `h-${below(5)}`;
    const expected = below(3);
    const events = Array.from({ length: 1 + below(3) }, (_, index) => event(tenants.hostile, aggregate_id, expected + index + 1));
    return { tenant_id: tenants.hostile, aggregate_id, aggregate_type: 'Drill', expected_aggregate_nonce: String(expected), idempotency_key: '', events };
  };
  const hostileRead = (): Record<string, unknown> => ({
    tenant_id: pick([tenants.hostile, tenants.valid]),
    aggregate_id: `h-${below(5)}`,
    from_aggregate_nonce: String(below(4)),
    max_count: below(5),
    forward: below(2) === 0,
  });
  // The hostile tenant's log is short: a subscription that works costs little to open and end.
  const hostileSubscribe = (): Record<string, unknown> => ({ tenant_id: tenants.hostile, aggregate_id_prefix: pick(['', 'h-', 'v-']), from_global_nonce: String(below(10)) });
  const randomBytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => below(256)));
  const long = (): string => 'x'.repeat(600);

  // Requests that decode and break one rule each: the server must refuse them, by name.
  const brokenAppends: ReadonlyArray<readonly [string, (request: Record<string, unknown>) => Record<string, unknown>]> = [
    ['empty tenant', (r) => ({ ...r, tenant_id: '' })],
    ['empty aggregate id', (r) => ({ ...r, aggregate_id: '' })],
    ['no events', (r) => ({ ...r, events: [] })],
    ['event without meta', (r) => ({ ...r, events: [{ payload: randomBytes(4) }] })],
    ['nonce that skips', (r) => ({ ...r, events: [event(tenants.hostile, String(r.aggregate_id), 7)] })],
    ['meta of another tenant', (r) => ({ ...r, events: [event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + 1, { tenant_id: 'someone-else' })] })],
    ['NUL in a type', (r) => ({ ...r, aggregate_type: 'Dr\u0000ill' })],
    ['text past the limit', (r) => ({ ...r, aggregate_id: long() })],
    ['idempotency key past the limit', (r) => ({ ...r, idempotency_key: long() })],
    ['too many headers', (r) => ({ ...r, events: [event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + 1, { headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])) })] })],
    ['header named __proto__', (r) => ({ ...r, events: [event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + 1, { headers: JSON.parse('{"__proto__":"x"}') })] })],
    ['expected nonce past 2^53', (r) => ({ ...r, expected_aggregate_nonce: '18446744073709551615' })],
    ['duplicate event ids', (r) => {
      const first = event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + 1, { event_id: 'twice' });
      const second = event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + 2, { event_id: 'twice' });
      return { ...r, events: [first, second] };
    }],
    ['too many events', (r) => ({ ...r, events: Array.from({ length: 1001 }, (_, i) => event(tenants.hostile, String(r.aggregate_id), Number(r.expected_aggregate_nonce) + i + 1, {}, Buffer.alloc(0))) })],
  ];
  const brokenReads: ReadonlyArray<readonly [string, (request: Record<string, unknown>) => Record<string, unknown>]> = [
    ['empty tenant', (r) => ({ ...r, tenant_id: '' })],
    ['empty aggregate id', (r) => ({ ...r, aggregate_id: '' })],
    ['tenant past the limit', (r) => ({ ...r, tenant_id: long() })],
    ['from past 2^53', (r) => ({ ...r, from_aggregate_nonce: '18446744073709551615' })],
    ['huge max count', (r) => ({ ...r, max_count: 4294967295 })],
  ];
  const brokenSubscribes: ReadonlyArray<readonly [string, (request: Record<string, unknown>) => Record<string, unknown>]> = [
    ['empty tenant', (r) => ({ ...r, tenant_id: '' })],
    ['prefix past the limit', (r) => ({ ...r, aggregate_id_prefix: long() })],
    ['from past 2^53', (r) => ({ ...r, from_global_nonce: '18446744073709551615' })],
    ['NUL in the tenant', (r) => ({ ...r, tenant_id: 'a\u0000b' })],
  ];

  // Ways to spoil bytes that were a valid request.
  const mutations: ReadonlyArray<readonly [string, (bytes: Buffer) => Buffer]> = [
    ['flipped bytes', (bytes) => {
      const copy = Buffer.from(bytes);
      for (let n = 1 + below(4); n > 0 && copy.length > 0; n--) copy[below(copy.length)] = below(256);
      return copy;
    }],
    ['cut short', (bytes) => bytes.subarray(0, below(bytes.length))],
    ['bytes inserted', (bytes) => {
      const at = below(bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), randomBytes(1 + below(8)), bytes.subarray(at)]);
    }],
    ['an invalid UTF-8 byte in text', (bytes) => {
      const copy = Buffer.from(bytes);
      const letters = [...copy.entries()].filter(([, byte]) => byte >= 0x61 && byte <= 0x7a).map(([index]) => index);
      if (letters.length > 0) copy[pick(letters)] = pick([0x80, 0xc3, 0xed, 0xfe, 0xff]);
      return copy;
    }],
    ['random bytes', () => randomBytes(below(200))],
  ];

  const encode = (method: Method, message: object): Buffer => {
    const type = { Append: 'AppendRequest', ReadStream: 'ReadStreamRequest', Subscribe: 'SubscribeRequest' }[method];
    return Buffer.from(messageType(`eventstore.v1.${type}`).serialize(message));
  };
  const bases: Record<Method, () => Record<string, unknown>> = { Append: hostileAppend, ReadStream: hostileRead, Subscribe: hostileSubscribe };
  const broken: Record<Method, typeof brokenAppends> = { Append: brokenAppends, ReadStream: brokenReads, Subscribe: brokenSubscribes };

  for (let index = 0; index < count; index++) {
    const roll = random();
    const method = pick<Method>(['Append', 'ReadStream', 'Subscribe']);
    if (roll < 0.12) {
      yield validCall(method);
    } else if (roll < 0.45) {
      const [kind, change] = pick(broken[method]);
      yield { method, bytes: encode(method, change(bases[method]())), kind: `${method}: ${kind}`, mustSucceed: false };
    } else if (roll < 0.9995) {
      const [kind, mutate] = pick(mutations);
      yield { method, bytes: mutate(encode(method, bases[method]())), kind: `${method}: ${kind}`, mustSucceed: false };
    } else {
      // Rare, for they are heavy: a payload one byte past its limit, a message past gRPC's.
      const size = pick([1024 * 1024 + 1, 5 * 1024 * 1024]);
      const request = hostileAppend();
      yield { method: 'Append', bytes: encode('Append', { ...request, events: [event(tenants.hostile, String(request.aggregate_id), Number(request.expected_aggregate_nonce) + 1, {}, Buffer.alloc(size))] }), kind: `Append: ${size} bytes of payload`, mustSucceed: false };
    }
  }

  function validCall(method: Method): DrillCall {
    if (method === 'Append') {
      const aggregateId = `v-${validStreams++}`;
      const events = Array.from({ length: 1 + below(3) }, (_, index) => event(tenants.valid, aggregateId, index + 1));
      const eventIds = events.map((e) => String((e as { meta: { event_id: string } }).meta.event_id));
      const request = { tenant_id: tenants.valid, aggregate_id: aggregateId, aggregate_type: 'Drill', expected_aggregate_nonce: '0', idempotency_key: `key-${aggregateId}`, events };
      return { method, bytes: encode(method, request), kind: 'Append: valid', writes: { aggregateId, eventIds }, mustSucceed: true };
    }
    const request = method === 'ReadStream'
      ? { tenant_id: tenants.valid, aggregate_id: `v-${below(validStreams + 1)}`, forward: true }
      : { tenant_id: tenants.valid, aggregate_id_prefix: `v-${below(validStreams + 1)}` };
    return { method, bytes: encode(method, request), kind: `${method}: valid`, mustSucceed: true };
  }
}
