// The storage boundary: events survive the trip to bytes and back, and bytes that are not a
// BankAccount event of a known shape are refused loudly instead of read as something else.
import { describe, expect, it } from 'vitest';
import type { BankAccountEvent } from '../../src/domain/bank-account.ts';
import { decode, encode, MalformedEventError } from '../../src/domain/bank-account-codec.ts';
import type { RecordedEvent } from '../../src/event-store/event-store.ts';

describe('the BankAccount event codec', () => {
  it.each<BankAccountEvent>([
    { type: 'AccountOpened', data: { accountId: 'a', customerId: 'c', accountType: 'Savings', initialBalanceCents: 5 } },
    { type: 'MoneyDeposited', data: { accountId: 'a', transactionId: 't', amountCents: 7, description: 'd', balanceAfterCents: 12 } },
    { type: 'MoneyWithdrawn', data: { accountId: 'a', transactionId: 't', amountCents: 2, description: '', balanceAfterCents: 10 } },
    { type: 'AccountClosed', data: { accountId: 'a', reason: 'r', finalBalanceCents: 10 } },
  ])('round-trips $type as JSON with money in cents', (event) => {
    const encoded = encode(event);
    expect(encoded).toMatchObject({ eventType: event.type, eventVersion: 1, contentType: 'application/json' });
    expect(decode(recorded(encoded.eventType, Buffer.from(encoded.payload).toString()))).toEqual(event);
  });

  it.each([
    ['MoneyDeposited', '{"accountId":"a","transactionId":"t","amountCents":"7","description":"d","balanceAfterCents":7}'],
    ['MoneyDeposited', '{"accountId":"a","transactionId":"t","amountCents":7.5,"description":"d","balanceAfterCents":7}'],
    ['AccountClosed', '{"accountId":"a","reason":"r"}'],
    ['AccountOpened', 'not json'],
    ['AccountOpened', '[1,2]'],
    ['AccountRenamed', '{}'],
  ])('refuses a %s with payload %s', (type, payload) => {
    expect(() => decode(recorded(type, payload))).toThrow(MalformedEventError);
  });

  it('refuses an unknown schema version', () => {
    const event = recorded('AccountClosed', '{"accountId":"a","reason":"r","finalBalanceCents":0}');
    expect(() => decode({ ...event, eventVersion: 2 })).toThrow('unknown schema version 2');
  });
});

function recorded(eventType: string, payload: string): RecordedEvent {
  return {
    eventId: 'e-1',
    eventType,
    eventVersion: 1,
    contentType: 'application/json',
    payload: Buffer.from(payload),
    tenantId: 't',
    stream: { aggregateType: 'BankAccount', aggregateId: 'a' },
    version: 1,
    globalPosition: 1,
    recordedAtMs: 0,
  };
}
