// Read side, tolerant reader: an event the read models cannot decode (a type they do not
// know, a schema version from the future, a payload that is not JSON or not the shape) is
// parked, not fatal: they skip it, the log flows on, and the parked event is remembered
// with the checkpoint so that every later run can still say what was skipped and why.

import { decode, MalformedEventError } from '../domain/bank-account-codec.ts';
import type { BankAccountEvent } from '../domain/bank-account.ts';
import type { RecordedEvent } from '../event-store/event-store.ts';
import { fieldsOf, integer, listOf, text } from './plain-data.ts';

/** An event skipped by every read model, and why. */
export interface ParkedEvent {
  readonly position: number;
  readonly eventId: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly reason: string;
}

/** The event decoded for the read models, or the reason it is parked. Anything but a malformed event is thrown on. */
export function decodeOrPark(recorded: RecordedEvent): { readonly event: BankAccountEvent } | { readonly parked: ParkedEvent } {
  try {
    return { event: decode(recorded) };
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    const { globalPosition: position, eventId, eventType, eventVersion } = recorded;
    return { parked: { position, eventId, aggregateId: recorded.stream.aggregateId, eventType, eventVersion, reason: error.reason } };
  }
}

/** One line for a person: where the event sits, what it claims to be, and why it was skipped. */
export function describeParked(parked: ParkedEvent): string {
  return `event at position ${parked.position} (${parked.eventType} v${parked.eventVersion} in ${parked.aggregateId}) is parked, skipped by the read models: ${parked.reason}`;
}

/** The parked events of several saves as one list, each once, in log order. */
export function mergeParked(...lists: ReadonlyArray<readonly ParkedEvent[]>): ParkedEvent[] {
  const byPosition = new Map<number, ParkedEvent>();
  for (const parked of lists.flat()) byPosition.set(parked.position, parked);
  return [...byPosition.values()].sort((one, other) => one.position - other.position);
}

/** Checks the parked events of a save read from disk; none may lie past its checkpoint. */
export function parkedFrom(data: unknown, where: string, maxPosition: number): ParkedEvent[] {
  return listOf(data, where).map((item, index) => {
    const at = `${where}[${index}]`;
    const fields = fieldsOf(item, at);
    return {
      position: integer(fields, 'position', at, 1, maxPosition),
      eventId: text(fields, 'eventId', at),
      aggregateId: text(fields, 'aggregateId', at),
      eventType: text(fields, 'eventType', at),
      eventVersion: integer(fields, 'eventVersion', at),
      reason: text(fields, 'reason', at),
    };
  });
}
