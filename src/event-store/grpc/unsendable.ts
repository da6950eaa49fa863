// What the gRPC client refuses to send: values the wire would change on the way, so that
// the store would keep, or look up, something other than the caller gave. Refused in the
// words every store uses for the same values (rules.ts).

import type { AppendRequest } from '../event-store.ts';
import { InvalidRequestError } from '../errors.ts';
import { eventNumberProblem } from '../rules.ts';

/** An append's every text and number, before it is put on the wire. */
export function refuseUnsendableAppend(request: AppendRequest): void {
  refuseUnsendable('request', 'tenant id', request.tenantId);
  refuseUnsendable('request', 'aggregate id', request.stream.aggregateId);
  refuseUnsendable('request', 'aggregate type', request.stream.aggregateType);
  refuseUnsendable('request', 'idempotency key', request.idempotencyKey);
  for (const [index, event] of request.events.entries()) {
    const where = `event ${index + 1}`;
    refuseUnsendable(where, 'event id', event.eventId);
    refuseUnsendable(where, 'event type', event.eventType);
    refuseUnsendable(where, 'content type', event.contentType);
    refuseUnsendable(where, 'content schema', event.contentSchema);
    refuseUnsendable(where, 'correlation id', event.correlationId);
    refuseUnsendable(where, 'causation id', event.causationId);
    refuseUnsendable(where, 'actor id', event.actorId);
    // protobuf would send another number in their place (-1 as 4294967295, 1.5 as 1).
    const numbers = eventNumberProblem(event);
    if (numbers !== undefined) throw new InvalidRequestError(`${where}: ${numbers}`);
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      refuseUnsendable(where, 'header name', name);
      refuseUnsendable(where, 'header value', value);
    }
  }
}

/**
 * The wire speaks UTF-8, which has no encoding for half a surrogate pair: protobuf would
 * send U+FFFD in its place, and the store would keep, or look up, other text than the
 * caller gave. So a request carrying one is refused before it leaves, in the words every
 * store uses for it.
 */
export function refuseUnsendable(where: string, field: string, text: string | undefined): void {
  if (text !== undefined && LONE_SURROGATE.test(text)) throw new InvalidRequestError(`${where}: ${field} is not valid Unicode (a lone surrogate)`);
}

const LONE_SURROGATE = /\p{Cs}/u;
