// Test support: what a client other than this bank may write to a BankAccount stream, and
// the read side cannot decode: a payload that is not JSON, a type it does not know, and a
// schema version from the future. The drills put them in a tenant's log, raw.

import { randomUUID } from 'node:crypto';
import { AGGREGATE_TYPE } from '../../src/domain/bank-account-codec.ts';
import type { EventStore, NewEvent } from '../../src/event-store/event-store.ts';

/** Why each of the three is parked, in the order they are written. */
export const FOREIGN_REASONS = ['payload is not JSON', 'not a BankAccount event type', 'unknown schema version 2'] as const;

/** Appends the three to one stream; their global positions. */
export async function appendForeign(store: EventStore, where: { tenantId: string; aggregateId: string; expectedVersion: number }): Promise<number[]> {
  const { tenantId, aggregateId, expectedVersion } = where;
  const deposit = JSON.stringify({ accountId: aggregateId, transactionId: 'f', amountCents: 1, description: '', balanceAfterCents: 1 });
  const events = [raw('MoneyDeposited', 1, `not json ${aggregateId}`), raw('AccountRenamed', 1, '{}'), raw('MoneyDeposited', 2, deposit)];
  const { lastGlobalPosition: last } = await store.append({ tenantId, stream: { aggregateType: AGGREGATE_TYPE, aggregateId }, expectedVersion, events });
  return [last - 2, last - 1, last];
}

function raw(eventType: string, eventVersion: number, payload: string): NewEvent {
  return { eventId: randomUUID(), eventType, eventVersion, contentType: 'application/json', payload: Buffer.from(payload) };
}
