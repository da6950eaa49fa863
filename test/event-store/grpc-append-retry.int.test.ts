// A lost answer to an append: the server committed, the client never heard, because the
// connection broke on the way back. With an idempotency key the client sends the same
// request again, a bounded number of times, and gets the first answer, so the events are
// stored once; without one it says the outcome is unknown. The command handler keys every
// append with its command's id, so a deposit whose answer is lost is applied once.

import { describe, expect, it } from 'vitest';
import type { AppendRequest, AppendResult, EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { NotRecordedError, StoreUnavailableError } from '../../src/event-store/errors.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { decode } from '../../src/domain/bank-account-codec.ts';
import { wireBank } from '../../src/wire.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import { account, newEvent, newTenant } from './contract.ts';
import { serveOnLoopback } from './grpc/loopback.ts';

describe('GrpcEventStore append when the answer is lost', () => {
  it('sends a keyed append again and stores its events once', async () => {
    await withLostAnswers((call) => call === 1, async ({ client, backend, tenantId }) => {
      const result = await client.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent()] });
      expect(result.lastVersion).toBe(1);
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
      expect(backend.appendCalls).toBe(2);
    });
  });

  it('does not resend an append without a key, and says its outcome is unknown', async () => {
    await withLostAnswers((call) => call === 1, async ({ client, backend, tenantId }) => {
      const failure = await client.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String(failure)).toContain('whether the append was recorded is unknown');
      expect(backend.appendCalls).toBe(1);
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
    });
  });

  it('sends a keyed append at most three times, then says its outcome is unknown', async () => {
    await withLostAnswers(() => true, async ({ client, backend, tenantId }) => {
      const request = { tenantId, stream: account('acc-1'), expectedVersion: 0, idempotencyKey: 'cmd-1', events: [newEvent()] };
      const failure = await client.append(request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect(String(failure)).toContain('whether the append was recorded is unknown');
      expect(backend.appendCalls).toBe(3);
      // Every resend was the same keyed batch: stored once, whatever the client heard.
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(1);
    });
  });
});

describe('GrpcEventStore append when the server recorded nothing', () => {
  it('sends an append without a key again, since the server gave up before recording it', async () => {
    await withRefusals((call) => call === 1, async ({ client, backend, tenantId }) => {
      const result = await client.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
      expect(result.lastVersion).toBe(1);
      expect(backend.appendCalls).toBe(2);
    });
  });

  it('says "not recorded", not "unknown", when every attempt was turned away', async () => {
    await withRefusals(() => true, async ({ client, backend, tenantId }) => {
      const failure = await client.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(NotRecordedError);
      expect(backend.appendCalls).toBe(3);
      expect(await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).toHaveLength(0);
    });
  });
});

describe('the command handler over gRPC when an answer is lost', () => {
  it('applies a deposit once, because its append carries the command id as its key', async () => {
    // Call 1 opens the account; call 2, the deposit, commits and its answer is lost.
    await withLostAnswers((call) => call === 2, async ({ client, backend, tenantId }) => {
      const bank = wireBank({ store: client, tenantId });
      try {
        await bank.handle({ type: 'OpenAccount', data: { accountId: 'acc-1', customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 100_00 } });
        const outcome = await bank.handle({
          type: 'DepositMoney',
          data: { accountId: 'acc-1', transactionId: 'tx-1', amountCents: 25_00, description: 'Birthday' },
        });
        expect(outcome).toMatchObject({ status: 'accepted', lastVersion: 2 });
        const stored = (await readWholeStream(backend, { tenantId, aggregateId: 'acc-1' })).map(decode);
        expect(stored.map((event) => event.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
        expect(stored[1]?.data).toMatchObject({ amountCents: 25_00, balanceAfterCents: 125_00 });
        expect(backend.appendCalls).toBe(3);
      } finally {
        await bank.stop();
      }
    });
  });
});

// ---- fixtures -------------------------------------------------------------------------

/**
 * A memory store behind a TCP proxy. The appends `loseAnswer` picks (counted from 1)
 * commit, and then the proxy cuts every connection before the answer can leave: the
 * client saw its request go and hears nothing back, as when a network fails mid-call.
 */
class LosesAnswers extends InMemoryEventStore implements EventStore {
  appendCalls = 0;

  constructor(
    private readonly loseAnswer: (call: number) => boolean,
    private readonly proxy: () => TcpProxy,
  ) {
    super();
  }

  override async append(request: AppendRequest): Promise<AppendResult> {
    const call = ++this.appendCalls;
    const result = await super.append(request);
    if (this.loseAnswer(call)) this.proxy().cut();
    return result;
  }
}

/** A memory store that, for the appends `refuse` picks, gives up as a timed-out database would. */
class GivesUp extends InMemoryEventStore implements EventStore {
  appendCalls = 0;

  constructor(private readonly refuse: (call: number) => boolean) {
    super();
  }

  override async append(request: AppendRequest): Promise<AppendResult> {
    if (this.refuse(++this.appendCalls)) throw new NotRecordedError('lock_timeout: nothing was recorded');
    return super.append(request);
  }
}

async function withRefusals(
  refuse: (call: number) => boolean,
  test: (context: { client: GrpcEventStore; backend: GivesUp; tenantId: string }) => Promise<void>,
): Promise<void> {
  const backend = new GivesUp(refuse);
  const server = await serveOnLoopback(backend);
  try {
    const client = await GrpcEventStore.connect({ address: server.address });
    try {
      await test({ client, backend, tenantId: newTenant() });
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
    await backend.close();
  }
}

async function withLostAnswers(
  loseAnswer: (call: number) => boolean,
  test: (context: { client: GrpcEventStore; backend: LosesAnswers; tenantId: string }) => Promise<void>,
): Promise<void> {
  let proxy: TcpProxy | undefined;
  const backend = new LosesAnswers(loseAnswer, () => proxy ?? expect.fail('no proxy'));
  const server = await serveOnLoopback(backend);
  try {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    // The deadline is far beyond any answer: what fails a call here is the cut, never time.
    const client = await GrpcEventStore.connect({ address: proxy.address, callTimeoutMs: 30_000 });
    try {
      await test({ client, backend, tenantId: newTenant() });
    } finally {
      await client.close();
    }
  } finally {
    await proxy?.close();
    await server.stop();
    await backend.close();
  }
}
