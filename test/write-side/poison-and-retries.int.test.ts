// Drill, poison and retries, through the gRPC server on both backends: foreign events the
// read side cannot decode sit in a tenant's log (a bad payload, an unknown type, a future
// schema version) and normal commands go on around them; the same deposit sent twice, by
// one writer, by a second process and after an answer lost on the way back, is stored once.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { decode } from '../../src/domain/bank-account-codec.ts';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import type { AppendRequest, AppendResult, EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { getAccountSummary } from '../../src/read-side/account-summary/queries.ts';
import type { ParkedEvent } from '../../src/read-side/parked-events.ts';
import { getTransactionHistory } from '../../src/read-side/transaction-history/queries.ts';
import { rebuildReadSide, sameReadModels, wireBank } from '../../src/wire.ts';
import { CommandIdReusedError } from '../../src/write-side/command-handler.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';
import { appendForeign, FOREIGN_REASONS } from '../support/foreign-events.ts';
import { describePostgres, startPostgresStore } from '../support/postgres.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';

type Backend = () => Promise<{ store: EventStore; stop: () => Promise<void> }>;

function drill(name: string, backend: Backend): void {
  describe(`poison and retries, ${name} behind the gRPC server`, () => {
    it('parks foreign events it cannot decode: the read models keep working and report each once', async () => {
      await withServer(backend, async ({ client, tenantId }) => {
        const parked: ParkedEvent[] = [];
        const bank = wireBank({ store: client, tenantId, onParked: (event) => void parked.push(event) });
        try {
          await bank.handle(open('acc-1'));
          const foreign = await appendForeign(client, { tenantId, aggregateId: 'intruder', expectedVersion: 0 });
          await bank.handle(deposit('acc-1', 'tx-1', 25_00));
          await bank.handle(open('acc-2'));
          const last = await bank.handle(deposit('acc-2', 'tx-2', 5_00));
          await bank.projector.waitFor(positionOf(last));

          expect(getAccountSummary(bank.accountSummaries, { accountId: 'acc-1' })).toMatchObject({ balanceCents: 125_00, transactionCount: 1 });
          expect(getTransactionHistory(bank.transactionHistories, { accountId: 'acc-2' })).toHaveLength(1);
          const expected = foreign.map((position, index) => ({ position, reason: FOREIGN_REASONS[index] }));
          expect(parked.map(({ position, reason }) => ({ position, reason }))).toEqual(expected);
          // A rebuild from position 1 parks the same events and ends with the same read models.
          const rebuilt = await rebuildReadSide({ store: client, tenantId });
          expect(rebuilt.projector.parked).toEqual(parked);
          expect(sameReadModels(rebuilt, bank)).toBe(true);
        } finally {
          await bank.stop();
        }
      });
    });

    it('records the same deposit once, sent twice, and from a second process; refuses the id for another amount', async () => {
      await withServer(backend, async ({ client, tenantId }) => {
        const teller = wireBank({ store: client, tenantId, readModels: [] });
        await teller.handle(open('acc-1'));
        const first = await teller.handle(deposit('acc-1', 'tx-1', 25_00));
        expect(await teller.handle(deposit('acc-1', 'tx-1', 25_00))).toMatchObject({ status: 'already-recorded', lastVersion: 2 });
        await teller.handle(deposit('acc-1', 'tx-2', 1_00));
        const secondProcess = wireBank({ store: client, tenantId, readModels: [] });
        expect(await secondProcess.handle(deposit('acc-1', 'tx-1', 25_00))).toMatchObject({ status: 'already-recorded', lastGlobalPosition: positionOf(first) });
        await expect(secondProcess.handle(deposit('acc-1', 'tx-1', 26_00))).rejects.toThrow(CommandIdReusedError);
        expect(await amountsIn(client, tenantId)).toEqual([25_00, 1_00]);
      });
    });

    it('records a deposit once when its answer was lost and the sender gave up, then sent it again', async () => {
      await withServer(backend, async ({ client, tenantId, losingClient, loseAnswers }) => {
        await wireBank({ store: client, tenantId, readModels: [] }).handle(open('acc-1'));
        loseAnswers(true);
        const lost = wireBank({ store: losingClient, tenantId, readModels: [] }).handle(deposit('acc-1', 'tx-1', 25_00));
        // Every resend of the gRPC client lost its answer too: the outcome is unknown (exit 3).
        await expect(lost).rejects.toThrow(StoreUnavailableError);
        loseAnswers(false);
        const retried = await wireBank({ store: client, tenantId, readModels: [] }).handle(deposit('acc-1', 'tx-1', 25_00));
        expect(retried).toMatchObject({ status: 'already-recorded', lastVersion: 2 });
        expect(await amountsIn(client, tenantId)).toEqual([25_00]);
      });
    });
  });
}

drill('the memory store', async () => {
  const store = new InMemoryEventStore();
  return { store, stop: () => store.close() };
});

describePostgres('poison and retries on PostgreSQL', (databaseUrl) => {
  drill('PostgreSQL', async () => {
    const { store, stop } = await startPostgresStore(databaseUrl);
    return { store, stop };
  });
});

// ---- fixtures -------------------------------------------------------------------------

interface Context {
  readonly client: GrpcEventStore;
  /** A client whose appends commit, but whose answers are lost while `loseAnswers(true)`. */
  readonly losingClient: GrpcEventStore;
  readonly loseAnswers: (lose: boolean) => void;
  readonly tenantId: string;
}

/**
 * The backend served on loopback, once directly and once behind a TCP proxy that cuts every
 * connection right after an append commits, while told to: what a network failing on the
 * way back looks like to the client. Everything started is stopped, also on failure.
 */
async function withServer(backend: Backend, test: (context: Context) => Promise<void>): Promise<void> {
  const undo: Array<() => Promise<void>> = [];
  try {
    const { store, stop } = await backend();
    undo.push(stop);
    let lose = false;
    let proxy: TcpProxy | undefined;
    const losing: EventStore = {
      append: async (request: AppendRequest): Promise<AppendResult> => {
        const result = await store.append(request);
        if (lose) proxy?.cut();
        return result;
      },
      readStream: (request) => store.readStream(request),
      subscribe: (request) => store.subscribe(request),
      close: () => Promise.resolve(),
    };
    const server = await serveOnLoopback(losing);
    undo.push(server.stop);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: server.port });
    const proxied = proxy;
    undo.push(() => proxied.close());
    const client = await GrpcEventStore.connect({ address: server.address });
    undo.push(() => client.close());
    const losingClient = await GrpcEventStore.connect({ address: proxied.address, callTimeoutMs: 30_000 });
    undo.push(() => losingClient.close());
    await test({ client, losingClient, loseAnswers: (value) => void (lose = value), tenantId: `drill-${randomUUID()}` });
  } finally {
    for (const step of undo.reverse()) await step();
  }
}

async function amountsIn(store: EventStore, tenantId: string): Promise<number[]> {
  const events = (await readWholeStream(store, { tenantId, aggregateId: 'acc-1' })).map(decode);
  return events.flatMap((event) => (event.type === 'MoneyDeposited' ? [event.data.amountCents] : []));
}

function positionOf(outcome: Awaited<ReturnType<ReturnType<typeof wireBank>['handle']>>): number {
  if (outcome.status === 'rejected') throw new Error(`refused: ${outcome.rejection.code}`);
  return outcome.lastGlobalPosition;
}

function open(accountId: string): BankAccountCommand {
  return { type: 'OpenAccount', data: { accountId, customerId: 'c-1', accountType: 'Checking', initialBalanceCents: 100_00 } };
}

function deposit(accountId: string, transactionId: string, amountCents: number): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId, amountCents, description: 'rent' } };
}
