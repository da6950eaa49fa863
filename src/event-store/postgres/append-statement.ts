// Appends as the one SQL statement they become: a call of the schema's append_batch
// function (see append-batch-function.ts), the batch passed as one array per column. Tests
// also run it inside transactions they hold open, to force interleavings.

import type { AppendRequest, NewEvent } from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';
import { batchFingerprint, FINGERPRINT_ALGORITHM } from '../rules.ts';
import { DEFAULT_OPTIONS } from './options.ts';

export interface BatchOptions {
  /** Wait for tenant locks other transactions hold; without, such a tenant's appends answer 'busy'. */
  readonly wait: boolean;
  /** How long an idempotency key is honoured; older keys are forgotten. */
  readonly keyRetentionMs: number;
}

/**
 * One statement for many appends: it answers one row per append (`append_index` counts from
 * 1 in the order given); a 'busy' append wrote nothing.
 */
export function batchStatement(schema: string, appends: readonly AppendRequest[], options: BatchOptions): { name: string; text: string; values: unknown[] } {
  const events = appends.flatMap((append) => append.events);
  const column = <T>(pick: (event: NewEvent) => T): T[] => events.map(pick);
  const optional = <T>(pick: (event: NewEvent) => T | undefined): Array<T | null> => events.map((e) => pick(e) ?? null);
  const placeholders = Array.from({ length: 22 }, (_, i) => `$${i + 1}`).join(', ');
  return {
    // Named, so each connection parses and plans the call once: that was a third of a lone
    // append's time in the database.
    name: `append_batch/${schema}`,
    text: `SELECT * FROM "${schema}".append_batch(${placeholders})`,
    values: [
      options.wait,
      `${options.keyRetentionMs} milliseconds`,
      FINGERPRINT_ALGORITHM,
      appends.map((a) => a.tenantId),
      appends.map((a) => a.stream.aggregateId),
      appends.map((a) => a.stream.aggregateType),
      appends.map((a) => a.expectedVersion),
      appends.map((a) => a.idempotencyKey || null),
      appends.map((a) => (a.idempotencyKey ? batchFingerprint(a) : null)),
      appends.map((a) => a.events.length),
      column((e) => e.eventId),
      column((e) => e.eventType),
      column((e) => e.eventVersion),
      column((e) => (e.contentType === '' ? DEFAULT_CONTENT_TYPE : e.contentType)),
      column((e) => e.payload),
      optional((e) => e.contentSchema),
      optional((e) => e.correlationId),
      optional((e) => e.causationId),
      optional((e) => e.actorId),
      optional((e) => e.clientTimestampMs),
      optional((e) => e.payloadSha256),
      optional((e) => (e.headers === undefined ? undefined : JSON.stringify(e.headers))),
    ],
  };
}

/** One append alone, waiting for its tenant's lock: what a test holds open in a transaction. */
export function appendStatement(schema: string, request: AppendRequest): { name: string; text: string; values: unknown[] } {
  return batchStatement(schema, [request], { wait: true, keyRetentionMs: DEFAULT_OPTIONS.idempotencyRetentionMs });
}
