// How BankAccount events are stored: which stream they belong to, and their JSON payloads.
// Both sides go through here: the write side encodes what it decided, and both sides decode
// what the store gives back, checking the untrusted bytes once so the rest stays typed.

import type { EncodedEvent, RecordedEvent, StreamId } from '../event-store/event-store.ts';
import type { BankAccountEvent, MoneyMovement } from './bank-account.ts';

export const AGGREGATE_TYPE = 'BankAccount';
const CONTENT_TYPE = 'application/json';
const SCHEMA_VERSION = 1;

/** The one place a stream name is made: the account id names its stream. */
export function accountStream(accountId: string): StreamId {
  return { aggregateType: AGGREGATE_TYPE, aggregateId: accountId };
}

export function encode(event: BankAccountEvent): EncodedEvent {
  return {
    eventType: event.type,
    eventVersion: SCHEMA_VERSION,
    contentType: CONTENT_TYPE,
    payload: Buffer.from(JSON.stringify(event.data), 'utf8'),
  };
}

export class MalformedEventError extends Error {}

export function isBankAccountEvent(recorded: RecordedEvent): boolean {
  return recorded.stream.aggregateType === AGGREGATE_TYPE;
}

export function decode(recorded: RecordedEvent): BankAccountEvent {
  const where = `event ${recorded.eventId} (${recorded.eventType}) at position ${recorded.globalPosition}`;
  if (recorded.eventVersion !== SCHEMA_VERSION) throw new MalformedEventError(`${where}: unknown schema version ${recorded.eventVersion}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(recorded.payload).toString('utf8'));
  } catch {
    throw new MalformedEventError(`${where}: payload is not JSON`);
  }
  const read = fieldReader(json, where);
  const type = recorded.eventType;
  switch (type) {
    case 'AccountOpened':
      return {
        type,
        data: {
          accountId: read.text('accountId'),
          customerId: read.text('customerId'),
          accountType: read.text('accountType'),
          initialBalanceCents: read.cents('initialBalanceCents'),
        },
      };
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return { type, data: moneyMovement(read) };
    case 'AccountClosed':
      return {
        type,
        data: { accountId: read.text('accountId'), reason: read.text('reason'), finalBalanceCents: read.cents('finalBalanceCents') },
      };
    default:
      throw new MalformedEventError(`${where}: not a BankAccount event type`);
  }
}

function moneyMovement(read: FieldReader): MoneyMovement {
  return {
    accountId: read.text('accountId'),
    transactionId: read.text('transactionId'),
    amountCents: read.cents('amountCents'),
    description: read.text('description'),
    balanceAfterCents: read.cents('balanceAfterCents'),
  };
}

interface FieldReader {
  text(name: string): string;
  cents(name: string): number;
}

function fieldReader(json: unknown, where: string): FieldReader {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MalformedEventError(`${where}: payload is not a JSON object`);
  }
  const fields = new Map(Object.entries(json));
  return {
    text(name) {
      const value = fields.get(name);
      if (typeof value !== 'string') throw new MalformedEventError(`${where}: ${name} is not a string`);
      return value;
    },
    cents(name) {
      const value = fields.get(name);
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new MalformedEventError(`${where}: ${name} is not a whole number of cents`);
      }
      return value;
    },
  };
}
