// The request rules every event store implementation enforces the same way: checked here
// once, before a store touches its log, so the memory and PostgreSQL stores cannot drift.

import { createHash } from 'node:crypto';
import type { AppendRequest, NewEvent, ReadStreamRequest, SubscribeRequest } from './event-store.ts';
import { DEFAULT_CONTENT_TYPE, MAX_PAGE_SIZE } from './event-store.ts';
import {
  DuplicateEventIdError,
  InvalidRequestError,
  LimitExceededError,
  MissingTenantError,
} from './errors.ts';
import type { Limits } from './limits.ts';
import { limitName } from './limits.ts';

/**
 * Checks an append against the protocol's rules and the store's limits, and returns the
 * bytes its events will take as `eventBytes` counts them, for a store that keeps count.
 */
export function checkAppend(request: AppendRequest, limits: Limits): number {
  if (request.tenantId === '') throw new MissingTenantError();
  if (request.stream.aggregateId === '') throw new InvalidRequestError('aggregate id is required');
  if (request.stream.aggregateType === '') throw new InvalidRequestError('aggregate type is required');
  checkCount('expected version', request.expectedVersion);
  if (request.events.length === 0) throw new InvalidRequestError('an append needs at least one event');
  if (request.events.length > limits.eventsPerAppend) {
    throw new LimitExceededError(`an append holds at most ${limits.eventsPerAppend} events, got ${request.events.length} (${limitName('eventsPerAppend', limits)})`);
  }
  checkText(limits, 'request', 'tenant id', request.tenantId);
  checkText(limits, 'request', 'aggregate id', request.stream.aggregateId);
  checkText(limits, 'request', 'aggregate type', request.stream.aggregateType);
  checkText(limits, 'request', 'idempotency key', request.idempotencyKey);
  // Every append passes through here: the checks allocate nothing on the way, and the
  // words of an error are put together only when there is one.
  const seen = request.events.length > 1 ? new Set<string>() : undefined;
  let bytes = 0;
  for (const [index, event] of request.events.entries()) {
    const where = index;
    checkText(limits, where, 'event id', event.eventId);
    checkText(limits, where, 'event type', event.eventType);
    checkText(limits, where, 'content type', event.contentType);
    checkText(limits, where, 'content schema', event.contentSchema);
    checkText(limits, where, 'correlation id', event.correlationId);
    checkText(limits, where, 'causation id', event.causationId);
    checkText(limits, where, 'actor id', event.actorId);
    if (event.headers !== undefined) checkHeaders(limits, where, event.headers);
    if (event.eventId === '') throw new InvalidRequestError(`${placeName(where)}: event id is required`);
    if (event.eventType === '') throw new InvalidRequestError(`${placeName(where)}: event type is required`);
    const numbers = eventNumberProblem(event);
    if (numbers !== undefined) throw new InvalidRequestError(`${placeName(where)}: ${numbers}`);
    if (event.payload.byteLength > limits.payloadBytes) {
      throw new LimitExceededError(`${placeName(where)}: payload is ${event.payload.byteLength} bytes, at most ${limits.payloadBytes} (${limitName('payloadBytes', limits)})`);
    }
    if (seen?.has(event.eventId) === true) throw new DuplicateEventIdError(`event id ${event.eventId} appears twice in the batch`);
    seen?.add(event.eventId);
    bytes += eventBytes(event);
  }
  const lastVersion = request.expectedVersion + request.events.length;
  if (!Number.isSafeInteger(lastVersion)) throw new InvalidRequestError('stream version out of range');
  return bytes;
}

export function checkReadStream(request: ReadStreamRequest, limits: Limits): void {
  if (request.tenantId === '') throw new MissingTenantError();
  if (request.aggregateId === '') throw new InvalidRequestError('aggregate id is required');
  checkText(limits, 'request', 'tenant id', request.tenantId);
  checkText(limits, 'request', 'aggregate id', request.aggregateId);
  checkCount('from version', request.fromVersion);
  checkCount('max count', request.maxCount);
}

export function checkSubscribe(request: SubscribeRequest, limits: Limits): void {
  if (request.tenantId === '') throw new MissingTenantError();
  checkText(limits, 'request', 'tenant id', request.tenantId);
  checkText(limits, 'request', 'aggregate id prefix', request.aggregateIdPrefix);
  checkCount('from position', request.fromPosition);
}

/**
 * What an event weighs for the byte limits: its payload, its text and a fixed share for
 * the bookkeeping around it. Text counts in UTF-16 units, near enough to bytes here.
 * PostgreSQL weighs rows the same way (`eventBytesSql` in postgres/byte-budget.ts).
 */
export function eventBytes(event: NewEvent): number {
  let bytes = EVENT_OVERHEAD_BYTES + event.payload.byteLength + event.eventId.length + event.eventType.length + event.contentType.length
    + (event.contentSchema?.length ?? 0) + (event.correlationId?.length ?? 0) + (event.causationId?.length ?? 0) + (event.actorId?.length ?? 0);
  for (const name in event.headers) bytes += name.length + (event.headers[name]?.length ?? 0);
  return bytes;
}

/** Counted for every event besides its text and payload: ids, positions, times. */
export const EVENT_OVERHEAD_BYTES = 200;

/** The events of a page up to the response budget, always at least one. */
export function withinResponseBudget<E extends NewEvent>(events: readonly E[], limits: Limits): readonly E[] {
  let bytes = 0;
  for (const [index, event] of events.entries()) {
    bytes += eventBytes(event);
    if (bytes > limits.responseBytes && index > 0) return events.slice(0, index);
  }
  return events;
}

/** 0 asks for the store's page limit; anything larger is cut to it. */
export function pageSize(maxCount: number): number {
  return maxCount === 0 ? MAX_PAGE_SIZE : Math.min(maxCount, MAX_PAGE_SIZE);
}

/** Names how batchFingerprint computes; stores keep it beside each fingerprint they record. */
export const FINGERPRINT_ALGORITHM = 'sha256/v1';

/**
 * What makes two appends "the same batch" for idempotency: the stream, the expected version
 * and every event's identity and bytes. Metadata the client may legitimately restamp on a
 * retry (its clock, correlation ids) is left out.
 */
export function batchFingerprint(request: AppendRequest): string {
  // Each field goes in as its length in bytes, a colon and its bytes, so no two batches run
  // together into the same input. Runs of text go in as one string (the same bytes, fewer
  // calls): this is computed for every keyed append, and each call into the hash costs.
  const field = (value: string): string => `${Buffer.byteLength(value)}:${value}`;
  const hash = createHash('sha256');
  let text = field(request.stream.aggregateType) + field(request.stream.aggregateId) + field(String(request.expectedVersion));
  for (const event of request.events) {
    // The content type as stored: an empty one is the default, in every store alike.
    const contentType = event.contentType === '' ? DEFAULT_CONTENT_TYPE : event.contentType;
    text += field(event.eventId) + field(event.eventType) + field(String(event.eventVersion)) + field(contentType);
    hash.update(`${text}${event.payload.byteLength}:`, 'utf8').update(event.payload);
    text = '';
  }
  return hash.update(text, 'utf8').digest('hex');
}

/**
 * Where in a request a value sits: the request itself, or its event at this index. A
 * number rather than a function that names it, since every append passes through here
 * and a function made per event costs more than the checks.
 */
type Place = 'request' | number;

function placeName(place: Place): string {
  return place === 'request' ? place : `event ${place + 1}`;
}

/**
 * Text with a NUL character or a lone surrogate is refused by every store alike: PostgreSQL
 * cannot store the one and would silently replace the other. Text past the byte limit too,
 * which also keeps each index entry within PostgreSQL's bound.
 */
function checkText(limits: Limits, where: Place, field: string, value: string | undefined): void {
  if (value === undefined) return;
  if (UNSTORABLE.test(value)) {
    throw new InvalidRequestError(`${placeName(where)}: ${field} ${value.includes('\u0000') ? 'may not contain the NUL character' : 'is not valid Unicode (a lone surrogate)'}`);
  }
  // Only text longer than a third of the limit can be past it: three bytes per UTF-16 unit at most.
  if (value.length * 3 > limits.textBytes && Buffer.byteLength(value, 'utf8') > limits.textBytes) {
    throw new InvalidRequestError(`${placeName(where)}: ${field} is ${Buffer.byteLength(value, 'utf8')} bytes, at most ${limits.textBytes} (${limitName('textBytes', limits)})`);
  }
}

const UNSTORABLE = /\u0000|\p{Cs}/u;

/**
 * Header names are text like any other, and more: never empty, and never `__proto__`,
 * which a JavaScript object cannot keep as a key (it would drop it without a word).
 */
function checkHeaders(limits: Limits, where: Place, headers: Readonly<Record<string, string>>): void {
  let count = 0;
  for (const name of Object.keys(headers)) {
    if (++count > limits.headersPerEvent) {
      throw new InvalidRequestError(`${placeName(where)}: more than ${limits.headersPerEvent} headers (${limitName('headersPerEvent', limits)})`);
    }
    if (name === '' || name === '__proto__') throw new InvalidRequestError(`${placeName(where)}: header name ${JSON.stringify(name)} is not allowed`);
    checkText(limits, where, 'header name', name);
    checkText(limits, where, 'header value', headers[name]);
  }
}

const MAX_UINT32 = 0xffff_ffff;

/**
 * Why an event's numbers cannot travel as the wire's unsigned integers (uint32, uint64), or
 * undefined: anything else would reach a subscriber as another number, or as bytes no
 * decoder reads right. Stores refuse such an event; the gRPC client refuses to send it.
 */
export function eventNumberProblem(event: NewEvent): string | undefined {
  if (!Number.isInteger(event.eventVersion) || event.eventVersion < 0 || event.eventVersion > MAX_UINT32) {
    return `event version must be a whole number from 0 to ${MAX_UINT32}, got ${event.eventVersion}`;
  }
  if (event.clientTimestampMs !== undefined && (!Number.isSafeInteger(event.clientTimestampMs) || event.clientTimestampMs < 0)) {
    return `client timestamp must be a whole number of milliseconds from 0 up, got ${event.clientTimestampMs}`;
  }
  return undefined;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${name} must be a whole number from 0 up, got ${value}`);
  }
}
