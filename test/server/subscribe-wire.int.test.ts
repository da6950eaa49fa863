// Subscribe, health and reflection seen through bare gRPC clients: the empty response as
// caught-up marker and heartbeat, refusals as status codes, and the standard services
// that grpcurl and health probes expect.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { appendMany, newTenant } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import { withSubscribe } from '../support/stores.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { asMessage, PlainClient } from '../event-store/grpc/plain-client.ts';
import type { Message } from '../event-store/grpc/plain-client.ts';

const HEARTBEAT_MS = 150;
/** Field 1 as a varint whose bytes end mid-number: no protobuf decoder can read it. */
const TRUNCATED_VARINT = Buffer.from([0x08, 0xff]);

describe('eventstore.v1 on the wire: Subscribe and the standard services', () => {
  const backend = new InMemoryEventStore();
  let server: LoopbackServer | undefined;
  let plain: PlainClient | undefined;
  const client = (): PlainClient => plain ?? expect.fail('no client');
  beforeAll(async () => {
    server = await serveOnLoopback(backend, { heartbeatMs: HEARTBEAT_MS });
    plain = new PlainClient(server.address);
  });
  afterAll(async () => {
    plain?.close();
    await server?.stop();
    await backend.close();
  });

  it('sends the log, then an empty response once caught up, then empty heartbeats while idle', async () => {
    const tenant_id = newTenant();
    await appendMany(backend, tenant_id, 'acc-1', 2);
    // What the store said, so the test knows which empty response is the marker.
    const said: string[] = [];
    const recording = withSubscribe(backend, async function* (request) {
      for await (const message of backend.subscribe(request)) {
        said.push(message.kind);
        yield message;
      }
    });
    const recordingServer = await serveOnLoopback(recording, { heartbeatMs: HEARTBEAT_MS });
    const recordingClient = new PlainClient(recordingServer.address);
    try {
      const responses = await take(recordingClient.subscribe({ tenant_id, from_global_nonce: '0' }), 4);
      expect(responses.map((r) => (r.event === null ? 'empty' : 'event'))).toEqual(['event', 'event', 'empty', 'empty']);
      expect(asMessage(asMessage(responses[0]?.event).meta)).toMatchObject({ tenant_id, aggregate_nonce: '1' });
      // The store said caught-up once and nothing after it: the second empty response
      // can only be the server's own heartbeat.
      expect(said).toEqual(['event', 'event', 'caught-up']);
    } finally {
      recordingClient.close();
      await recordingServer.stop();
    }
  });

  it('sends no heartbeat before the caught-up marker, however slow the catch-up', async () => {
    const tenantId = newTenant();
    await appendMany(backend, tenantId, 'acc-1', 1);
    const [stored] = (await backend.readStream({ tenantId, aggregateId: 'acc-1', fromVersion: 0, maxCount: 0, direction: 'forward' })).events;
    if (stored === undefined) throw new Error('nothing stored');
    // A store whose catch-up stalls for several heartbeat intervals after its first event.
    let storeSaidCaughtUp = false;
    const slowCatchUp = withSubscribe(backend, async function* (request) {
      yield { kind: 'event', event: stored };
      await new Promise((resolve) => setTimeout(resolve, 4 * HEARTBEAT_MS));
      storeSaidCaughtUp = true;
      yield { kind: 'caught-up' };
      yield* backend.subscribe({ ...request, fromPosition: stored.globalPosition + 1 });
    });
    const slowServer = await serveOnLoopback(slowCatchUp, { heartbeatMs: HEARTBEAT_MS });
    const slowClient = new PlainClient(slowServer.address);
    try {
      // Each response with whether the store had said caught-up by the time it arrived:
      // an empty response during the stall would be a heartbeat sent too early.
      const arrivals = await take(slowClient.subscribe({ tenant_id: tenantId }), 2, () => storeSaidCaughtUp);
      expect(arrivals.map((r) => `${r.event === null ? 'empty' : 'event'} ${r.noted === true ? 'after' : 'before'} caught-up`)).toEqual([
        'event before caught-up',
        'empty after caught-up',
      ]);
    } finally {
      slowClient.close();
      await slowServer.stop();
    }
  });

  it('starts at from_global_nonce inclusive and keeps to the aggregate id prefix', async () => {
    const tenant_id = newTenant();
    await appendMany(backend, tenant_id, 'acc-1', 3);
    await appendMany(backend, tenant_id, 'loan-1', 1);
    const all = await take(client().subscribe({ tenant_id }), 4);
    const second = asMessage(asMessage(all[1]?.event).meta).global_nonce;
    const call = client().subscribe({ tenant_id, from_global_nonce: second, aggregate_id_prefix: 'acc-' });
    try {
      const responses = await take(call, 3);
      expect(responses.map((r) => (r.event === null ? 'empty' : asMessage(asMessage(r.event).meta).aggregate_nonce))).toEqual(['2', '3', 'empty']);
    } finally {
      call.cancel();
    }
  });

  it('refuses a subscription without a tenant with UNAUTHENTICATED', async () => {
    await expect(take(client().subscribe({ tenant_id: '' }), 1)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('answers a subscribe request that is not one with INVALID_ARGUMENT and keeps serving', async () => {
    const identity = (bytes: Buffer): Buffer => bytes;
    const garbage = client().client.makeServerStreamRequest('/eventstore.v1.EventStore/Subscribe', identity, identity, TRUNCATED_VARINT);
    await expect(take(garbage, 1)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/could not be decoded/) });
    const call = client().subscribe({ tenant_id: newTenant() });
    expect(await take(call, 1)).toEqual([{ event: null }]);
    call.cancel();
  });

  it('answers the standard health check as SERVING, for the server and for the service', async () => {
    const check = healthService.Check;
    if (check === undefined) throw new Error('no Check in the health service');
    for (const serviceName of ['', 'eventstore.v1.EventStore']) {
      const answer = await new Promise<unknown>((resolve, reject) =>
        client().client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service: serviceName }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );
      expect(answer).toEqual({ status: 'SERVING' });
    }
  });

  it('lists the event store service through server reflection', async () => {
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');
    const definitions = loadSync(reflectionProto, { keepCase: true, defaults: true });
    const reflection = definitions['grpc.reflection.v1.ServerReflection'];
    const info = reflection !== undefined && !('format' in reflection) ? reflection.ServerReflectionInfo : undefined;
    if (info === undefined) throw new Error('no ServerReflectionInfo in the reflection proto');
    const call = client().client.makeBidiStreamRequest(info.path, info.requestSerialize, info.responseDeserialize);
    call.write({ list_services: '' });
    const [answer] = await take(call, 1);
    const services = asMessage(answer?.list_services_response).service;
    expect(Array.isArray(services) ? services.map((s) => asMessage(s).name) : []).toContain('eventstore.v1.EventStore');
  });
});

// ---- fixtures -------------------------------------------------------------------------

/**
 * The first `count` responses of a stream, or its error; fails rather than waits forever.
 * With `note`, each response carries what it said when that response arrived, as `noted`.
 * Cancels the call when done, so the server's shutdown has nothing left to wait for.
 */
async function take(
  call: ClientReadableStream<unknown> | ClientDuplexStream<object, unknown>,
  count: number,
  note?: () => unknown,
): Promise<Message[]> {
  const responses: Message[] = [];
  const timer = setTimeout(() => call.destroy(new Error(`timed out waiting for ${count} responses`)), 10_000);
  try {
    for await (const response of call) {
      responses.push(note === undefined ? asMessage(response) : { ...asMessage(response), noted: note() });
      if (responses.length === count) return responses;
    }
    throw new Error(`the stream ended after ${responses.length} of ${count} responses`);
  } finally {
    clearTimeout(timer);
    call.cancel();
  }
}
