// An append as the one SQL statement it becomes: a call of the schema's append_events
// function (see migrations.ts), the batch passed as one array per column. Tests also run
// it inside transactions they hold open, to force interleavings.

import type { AppendRequest } from '../event-store.ts';
import { DEFAULT_CONTENT_TYPE } from '../event-store.ts';
import { batchFingerprint } from '../rules.ts';

export function appendStatement(schema: string, request: AppendRequest): { text: string; values: unknown[] } {
  const { events } = request;
  const optional = <T>(pick: (event: (typeof events)[number]) => T | undefined): Array<T | null> => events.map((e) => pick(e) ?? null);
  return {
    text: `SELECT * FROM "${schema}".append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
    values: [
      request.tenantId,
      request.stream.aggregateId,
      request.stream.aggregateType,
      request.expectedVersion,
      request.idempotencyKey || null,
      request.idempotencyKey ? batchFingerprint(request) : null,
      events.map((e) => e.eventId),
      events.map((e) => e.eventType),
      events.map((e) => e.eventVersion),
      events.map((e) => (e.contentType === '' ? DEFAULT_CONTENT_TYPE : e.contentType)),
      events.map((e) => e.payload),
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
