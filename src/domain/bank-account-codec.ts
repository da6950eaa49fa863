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

/** A stored event this codec cannot read; `reason` says why, without the event's coordinates. */
export class MalformedEventError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export function isBankAccountEvent(recorded: RecordedEvent): boolean {
  return recorded.stream.aggregateType === AGGREGATE_TYPE;
}

/**
 * Checks and decodes one stored event. Every command and every read model goes through
 * here for each event it reads, so the happy path does no more than parse and check:
 * the payload is read where it lies (no copy), fields are read straight off the parsed
 * object, and the words of an error are put together only when there is one.
 */
export function decode(recorded: RecordedEvent): BankAccountEvent {
  if (recorded.eventVersion !== SCHEMA_VERSION) throw malformed(recorded, `unknown schema version ${recorded.eventVersion}`);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(recorded.payload));
  } catch {
    throw malformed(recorded, 'payload is not JSON');
  }
  if (!isJsonObject(json)) throw malformed(recorded, 'payload is not a JSON object');
  const fields = json;
  const type = recorded.eventType;
  switch (type) {
    case 'AccountOpened':
      return {
        type,
        data: {
          accountId: text(recorded, fields, 'accountId'),
          customerId: text(recorded, fields, 'customerId'),
          accountType: text(recorded, fields, 'accountType'),
          initialBalanceCents: cents(recorded, fields, 'initialBalanceCents'),
        },
      };
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return { type, data: moneyMovement(recorded, fields) };
    case 'AccountClosed':
      return {
        type,
        data: {
          accountId: text(recorded, fields, 'accountId'),
          reason: text(recorded, fields, 'reason'),
          finalBalanceCents: cents(recorded, fields, 'finalBalanceCents'),
        },
      };
    default:
      throw malformed(recorded, 'not a BankAccount event type');
  }
}

/** Reads UTF-8 straight from the payload's bytes, wherever they sit in a larger buffer. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Fields = { readonly [name: string]: unknown };

function isJsonObject(json: unknown): json is Fields {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function moneyMovement(recorded: RecordedEvent, fields: Fields): MoneyMovement {
  return {
    accountId: text(recorded, fields, 'accountId'),
    transactionId: text(recorded, fields, 'transactionId'),
    amountCents: cents(recorded, fields, 'amountCents'),
    description: text(recorded, fields, 'description'),
    balanceAfterCents: cents(recorded, fields, 'balanceAfterCents'),
  };
}

function text(recorded: RecordedEvent, fields: Fields, name: string): string {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (typeof value !== 'string') throw malformed(recorded, `${name} is not a string`);
  return value;
}

function cents(recorded: RecordedEvent, fields: Fields, name: string): number {
  const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw malformed(recorded, `${name} is not a whole number of cents`);
  return value;
}

function malformed(recorded: RecordedEvent, why: string): MalformedEventError {
  return new MalformedEventError(`event ${recorded.eventId} (${recorded.eventType}) at position ${recorded.globalPosition}: ${why}`, why);
}
