// The TLS drill: a server given EVENT_STORE_TLS_CERT and EVENT_STORE_TLS_KEY serves TLS
// clients that trust its CA, and refuses plaintext ones and ones that do not trust it
// cleanly: a status code or the client's own "no answer", no hang, no crash.

import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { securityFromEnv } from '../../src/server/security.ts';
import { account, newEvent, newTenant, untilCaughtUp } from '../event-store/contract.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import type { LoopbackServer } from '../event-store/grpc/loopback.ts';
import { PlainClient } from '../event-store/grpc/plain-client.ts';
import { makeCertificate } from '../support/certificate.ts';
import type { Certificate } from '../support/certificate.ts';

describe('a server that speaks TLS', () => {
  const memory = new InMemoryEventStore();
  let certificate: Certificate | undefined;
  let server: LoopbackServer | undefined;
  // By name, as the certificate says: node warns once about TLS to a bare IP address (SNI).
  const address = (): string => `localhost:${server?.port ?? expect.fail('no server')}`;
  const ca = (): Buffer => certificate?.cert ?? expect.fail('no certificate');
  beforeAll(async () => {
    certificate = await makeCertificate();
    const env = { EVENT_STORE_TLS_CERT: certificate.certFile, EVENT_STORE_TLS_KEY: certificate.keyFile };
    const security = await securityFromEnv(env, '127.0.0.1:0');
    expect(security.notices).toContain('TLS: on; plaintext clients are refused');
    server = await serveOnLoopback(memory, { credentials: security.credentials });
  });
  afterAll(async () => {
    await server?.stop();
    await memory.close();
    await certificate?.remove();
  });

  it('serves a TLS client that trusts its CA: append, read and subscribe', async () => {
    const store = await GrpcEventStore.connect({ address: address(), tls: { ca: ca() } });
    try {
      const tenantId = newTenant();
      await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
      const page = await store.readStream({ tenantId, aggregateId: 'acc-1', fromVersion: 0, maxCount: 0, direction: 'forward' });
      expect(page.events).toHaveLength(1);
      expect(await untilCaughtUp(store.subscribe({ tenantId, fromPosition: 0 }))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('leaves a plaintext client of ours with "no answer", saying it spoke plaintext', async () => {
    const refused = GrpcEventStore.connect({ address: address(), connectTimeoutMs: 1_500 });
    await expect(refused).rejects.toThrow(StoreUnavailableError);
    await expect(refused).rejects.toThrow('(plaintext; a server that speaks TLS needs TLS here too)');
  });

  it('answers a plaintext call with UNAVAILABLE, not a hang', async () => {
    const plain = new PlainClient(address(), { deadlineMs: 10_000 });
    try {
      const outcome = await plain.readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '0', max_count: 0, forward: true });
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(status[outcome.error.code]).toBe('UNAVAILABLE');
    } finally {
      plain.close();
    }
  });

  it('is not trusted by a TLS client that does not know its CA', async () => {
    const refused = GrpcEventStore.connect({ address: address(), connectTimeoutMs: 1_500, tls: {} });
    await expect(refused).rejects.toThrow(StoreUnavailableError);
    await expect(refused).rejects.toThrow('with a certificate this side trusts?');
    const plain = new PlainClient(address(), { credentials: credentials.createSsl(), deadlineMs: 10_000 });
    try {
      const outcome = await plain.readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '0', max_count: 0, forward: true });
      expect(outcome.ok ? 'served' : status[outcome.error.code]).toBe('UNAVAILABLE');
    } finally {
      plain.close();
    }
  });

  it('still serves TLS clients after the refused ones', async () => {
    const plain = new PlainClient(address(), { credentials: credentials.createSsl(ca()), deadlineMs: 10_000 });
    try {
      const outcome = await plain.readStream({ tenant_id: newTenant(), aggregate_id: 'acc-1', from_aggregate_nonce: '0', max_count: 0, forward: true });
      expect(outcome.ok).toBe(true);
    } finally {
      plain.close();
    }
  });
});
