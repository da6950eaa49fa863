// The request rules every event store implementation enforces the same way: checked here
// once, before a store touches its log, so the memory and PostgreSQL stores cannot drift.

import { createHash } from 'node:crypto';
import type { AppendRequest, ReadStreamRequest, SubscribeRequest } from './event-store.ts';
import { DEFAULT_CONTENT_TYPE, MAX_EVENTS_PER_APPEND, MAX_PAGE_SIZE, MAX_PAYLOAD_BYTES } from './event-store.ts';
import {
  DuplicateEventIdError,
  InvalidRequestError,
  LimitExceededError,
  MissingTenantError,
} from './errors.ts';

export function checkAppend(request: AppendRequest): void {
  if (request.tenantId === '') throw new MissingTenantError();
  if (request.stream.aggregateId === '') throw new InvalidRequestError('aggregate id is required');
  if (request.stream.aggregateType === '') throw new InvalidRequestError('aggregate type is required');
  checkCount('expected version', request.expectedVersion);
  if (request.events.length === 0) throw new InvalidRequestError('an append needs at least one event');
  if (request.events.length > MAX_EVENTS_PER_APPEND) {
    throw new LimitExceededError(`an append holds at most ${MAX_EVENTS_PER_APPEND} events, got ${request.events.length}`);
  }
  checkText('request', request.tenantId, request.stream.aggregateId, request.stream.aggregateType, request.idempotencyKey);
  // Every append passes through here: the checks allocate nothing on the way, and the
  // words of an error are put together only when there is one.
  const seen = request.events.length > 1 ? new Set<string>() : undefined;
  for (const [index, event] of request.events.entries()) {
    const where = (): string => `event ${index + 1}`;
    checkText(where, event.eventId, event.eventType, event.contentType, event.contentSchema, event.correlationId, event.causationId, event.actorId);
    for (const name in event.headers) checkText(where, name, event.headers[name]);
    if (event.eventId === '') throw new InvalidRequestError(`${where()}: event id is required`);
    if (event.eventType === '') throw new InvalidRequestError(`${where()}: event type is required`);
    if (event.payload.byteLength > MAX_PAYLOAD_BYTES) {
      throw new LimitExceededError(`${where()}: payload is ${event.payload.byteLength} bytes, at most ${MAX_PAYLOAD_BYTES}`);
    }
    if (seen?.has(event.eventId) === true) throw new DuplicateEventIdError(`event id ${event.eventId} appears twice in the batch`);
    seen?.add(event.eventId);
  }
  const lastVersion = request.expectedVersion + request.events.length;
  if (!Number.isSafeInteger(lastVersion)) throw new InvalidRequestError('stream version out of range');
}

export function checkReadStream(request: ReadStreamRequest): void {
  if (request.tenantId === '') throw new MissingTenantError();
  if (request.aggregateId === '') throw new InvalidRequestError('aggregate id is required');
  checkText('request', request.tenantId, request.aggregateId);
  checkCount('from version', request.fromVersion);
  checkCount('max count', request.maxCount);
}

export function checkSubscribe(request: SubscribeRequest): void {
  if (request.tenantId === '') throw new MissingTenantError();
  checkText('request', request.tenantId, request.aggregateIdPrefix);
  checkCount('from position', request.fromPosition);
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
 * Text with a NUL character is refused by every store alike, because PostgreSQL cannot
 * store it: an event the memory store took must never be one the database would refuse.
 */
function checkText(where: string | (() => string), ...values: ReadonlyArray<string | undefined>): void {
  for (const value of values) {
    if (value?.includes('\u0000') === true) {
      throw new InvalidRequestError(`${typeof where === 'string' ? where : where()}: text may not contain the NUL character`);
    }
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(`${name} must be a whole number from 0 up, got ${value}`);
  }
}
