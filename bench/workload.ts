// Bench workload: what the rows send. Small bank events shaped as the command handler
// shapes them, accounts filled to a given length by bulk appends, and a pool that hands
// each command an account of about the length a row is named for.

import { randomUUID } from 'node:crypto';
import { newId } from '../src/ids.ts';
import type { BankAccountCommand, BankAccountEvent } from '../src/domain/bank-account.ts';
import { accountStream, encode } from '../src/domain/bank-account-codec.ts';
import type { AppendRequest, EventStore, NewEvent } from '../src/event-store/event-store.ts';
import { DEFAULT_LIMITS } from '../src/event-store/limits.ts';
import { methods } from '../src/event-store/grpc/proto.ts';
import { encodeSubscribeResponse } from '../src/event-store/grpc/subscribe-response-writer.ts';
import { appendRequestToWire } from '../src/event-store/grpc/wire.ts';
import { forEachLimited, measureRate, SIZES } from './measure.ts';
import type { Slot } from './measure.ts';

export function depositCommand(accountId: string): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId: newId(), amountCents: 100, description: 'bench deposit' } };
}

/**
 * One event with the ids and clock the command handler adds, so sizes match real appends.
 * `makeId` defaults to the handler's own UUIDv7 (src/ids.ts); fills pass randomUUID, same
 * size and twice as quick, for the hundreds of thousands of events they write.
 */
export function newEvent(event: BankAccountEvent, commandId?: string, makeId: () => string = newId): NewEvent {
  const command = commandId ?? makeId();
  return { ...encode(event), eventId: makeId(), correlationId: command, causationId: command, clientTimestampMs: Date.now() };
}

export function deposited(accountId: string, balanceAfterCents: number, makeId: () => string = newId): BankAccountEvent {
  return { type: 'MoneyDeposited', data: { accountId, transactionId: makeId(), amountCents: 100, description: 'bench deposit', balanceAfterCents } };
}

/** One small deposit as its own keyed append: what a command appends. */
export function depositAppend(options: { tenantId: string; accountId: string; expectedVersion: number }): AppendRequest {
  const commandId = newId();
  return {
    tenantId: options.tenantId,
    stream: accountStream(options.accountId),
    expectedVersion: options.expectedVersion,
    idempotencyKey: commandId,
    events: [newEvent(deposited(options.accountId, 100 * (options.expectedVersion + 1)), commandId)],
  };
}

/** Bytes of an AppendRequest carrying one small deposit on the wire: the echo floor's message size. */
export function appendMessageBytes(): number {
  const request = depositAppend({ tenantId: 'bench-tenant-0123456789', accountId: 'account-000001', expectedVersion: 20 });
  return methods.append.requestSerialize(appendRequestToWire(request)).length;
}

/** Bytes of one such deposit as a Subscribe response on the wire: the stream floor's message size. */
export function eventMessageBytes(): number {
  const { tenantId, stream, events } = depositAppend({ tenantId: 'bench-tenant-0123456789', accountId: 'account-000001', expectedVersion: 20 });
  const [event] = events;
  if (event === undefined) throw new Error('a deposit append carries one event');
  const recorded = { ...event, tenantId, stream, version: 21, globalPosition: 123_456, recordedAtMs: Date.now() };
  return encodeSubscribeResponse(recorded).length;
}

/** An opened account followed by deposits, `length` events in all, in appends of at most 1000. */
export async function fillAccount(store: EventStore, tenantId: string, accountId: string, length: number): Promise<void> {
  const opened: BankAccountEvent = { type: 'AccountOpened', data: { accountId, customerId: 'bench', accountType: 'Checking', initialBalanceCents: 0 } };
  for (let version = 0; version < length; ) {
    const count = Math.min(DEFAULT_LIMITS.eventsPerAppend, length - version);
    const event = (at: number): NewEvent => newEvent(at === 0 ? opened : deposited(accountId, 100 * at, randomUUID), undefined, randomUUID);
    const events = Array.from({ length: count }, (_, i) => event(version + i));
    await store.append({ tenantId, stream: accountStream(accountId), expectedVersion: version, events });
    version += count;
  }
}

export async function fillAccounts(store: EventStore, tenantId: string, accountIds: readonly string[], length: number): Promise<void> {
  await forEachLimited(accountIds, 8, (accountId) => fillAccount(store, tenantId, accountId, length));
}

/** A command row ready to measure, and what its streams really held. */
export interface CommandSlot extends Slot {
  /** Events each command's stream held before it, on average: the length the row is really at. */
  meanStreamLength(): number;
}

/**
 * Deposits through `handle` into accounts that already hold `streamLength` events. Each
 * account takes a quarter of its length in deposits, one worker at a time, and is then
 * retired, so the streams stay near the length named; a short warm-up estimates the rate,
 * and enough accounts for the measured seconds are filled before they start.
 */
export async function prepareCommands(options: {
  readonly name: string;
  readonly store: EventStore;
  readonly tenantId: string;
  readonly streamLength: number;
  readonly inFlight: number;
  readonly handle: (command: BankAccountCommand) => Promise<void>;
  /** The measured time the accounts must last; default BENCH_SECONDS. */
  readonly seconds?: number;
  /** A rate measured earlier in the run, when the warm-up here may be too short to show it. */
  readonly expectedPerS?: number;
  /**
   * Each worker keeps sending to one account it has used before, as a client working on
   * known accounts does (the state cache then always holds it), instead of a fresh account
   * every quarter of the stream's length.
   */
  readonly knownAccounts?: boolean;
}): Promise<CommandSlot> {
  const { store, tenantId, streamLength, inFlight, handle } = options;
  const usesPerAccount = Math.max(1, Math.ceil(streamLength / 4));
  const prefix = `acct-${newId().slice(-12)}`;
  const warmAccounts = Array.from({ length: inFlight }, (_, i) => `${prefix}-warm-${i}`);
  await fillAccounts(store, tenantId, warmAccounts, streamLength);
  const warm = await measureRate(
    { inFlight, op: (worker) => handle(depositCommand(warmAccounts[worker] ?? '')) },
    { seconds: Math.min(0.5, SIZES.seconds / 2), warmupSeconds: 0.1 },
  );

  if (options.knownAccounts === true) {
    const sent = new Array<number>(inFlight).fill(0);
    let commands = 0;
    return {
      name: options.name,
      inFlight,
      op: async (worker) => {
        sent[worker] = (sent[worker] ?? 0) + 1;
        commands++;
        await handle(depositCommand(warmAccounts[worker] ?? ''));
      },
      meanStreamLength: () => streamLength + sent.reduce((sum, count) => sum + count * count / 2, 0) / Math.max(commands, 1),
    };
  }

  // Twice what the rate needs: a handler still warming up speeds up later. Filling costs
  // the store about as much as the commands do, so a larger margin would double the run.
  const perSecond = Math.max(warm.perSecond, options.expectedPerS ?? 0, 1);
  const needed = Math.ceil((perSecond * (options.seconds ?? SIZES.seconds) * 2) / usesPerAccount) + inFlight;
  const pool = Array.from({ length: needed }, (_, i) => `${prefix}-${i}`);
  await fillAccounts(store, tenantId, pool, streamLength);
  const uses = new Map<string, number>();
  const leases: Array<{ accountId: string; left: number }> = [];
  let nextAccount = 0;
  let eventsBefore = 0;
  let commands = 0;
  return {
    name: options.name,
    inFlight,
    op: async (worker) => {
      let lease = leases[worker];
      if (lease === undefined || lease.left === 0) {
        // Past the end of the pool the streams grow beyond the row's length: meanStreamLength shows it.
        lease = { accountId: pool[nextAccount++ % pool.length] ?? '', left: usesPerAccount };
        leases[worker] = lease;
      }
      lease.left--;
      const used = uses.get(lease.accountId) ?? 0;
      uses.set(lease.accountId, used + 1);
      eventsBefore += streamLength + used;
      commands++;
      await handle(depositCommand(lease.accountId));
    },
    meanStreamLength: () => eventsBefore / Math.max(commands, 1),
  };
}
