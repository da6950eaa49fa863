// Turns what the pg driver throws into the event store's typed errors, so callers of the
// PostgreSQL store see the same vocabulary as with any other store.

import { DuplicateEventIdError, EventStoreError, InvalidRequestError, NotRecordedError, StoreUnavailableError } from '../errors.ts';

/** Failures that say "the database cannot serve us right now", not "your request is wrong". */
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
]);
/** The database cancelled the statement, so its transaction rolled back: nothing was written. */
const GAVE_UP_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
]);

export function translateDatabaseError(error: unknown, database: string): Error {
  if (error instanceof EventStoreError) return error;
  const code = errorProperty(error, 'code');
  const message = error instanceof Error ? error.message : String(error);
  if (code === '23505' && errorProperty(error, 'constraint') === 'events_event_id_key') {
    // The driver's detail ("Key (tenant_id, event_id)=(…) already exists") is kept as the
    // cause: the server logs it, and the words sent to a client stay free of SQL.
    return new DuplicateEventIdError('an event id of this batch is already stored for the tenant', { cause: error });
  }
  // PostgreSQL text cannot hold a NUL character, in a column or inside a JSON string.
  if (code === '22021' || code === '22P05') return new InvalidRequestError(`PostgreSQL cannot store this text: ${message}`);
  // A value PostgreSQL cannot parse, such as a header with half a surrogate pair in jsonb.
  if (code === '22P02') return new InvalidRequestError(`PostgreSQL cannot read a value of this append: ${message}`);
  if (code !== undefined && GAVE_UP_SQLSTATES.has(code)) return new NotRecordedError(`${database} gave up on the statement, nothing was recorded: ${message}`);
  if (isUnavailable(code, message)) return new StoreUnavailableError(`${database} is unavailable: ${message || code}`);
  return error instanceof Error ? error : new Error(message);
}

function isUnavailable(code: string | undefined, message: string): boolean {
  if (code !== undefined && (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  // The driver's own connection failures carry no code, only these messages.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/.test(message);
}

function errorProperty(error: unknown, name: string): string | undefined {
  if (typeof error !== 'object' || error === null || !(name in error)) return undefined;
  const value: unknown = (error as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}
