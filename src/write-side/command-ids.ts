// Write side, retry layer: a command carries its own id (a transaction id, an account id, a
// close id) and everything its append sends is derived from it: the idempotency key, the
// event ids and a fingerprint of the command. So the same command sent twice is the same
// batch, and one sent again after its stream moved on is found there, not recorded twice.

import { createHash } from 'node:crypto';
import { v5 } from 'uuid';
import type { EventStore, RecordedEvent } from '../event-store/event-store.ts';

/** The header each event carries: a hash of the whole command that made it. */
export const COMMAND_HEADER = 'command-sha256';

/** This project's name space for the event ids it derives (RFC 9562, UUIDv5). */
const EVENT_IDS = '26644e7d-b34e-4fa5-b379-040272084184';

/**
 * The id of a command's `index`-th event: a UUID (version 5, a SHA-1 of the command id and
 * the index), the same on every resend, and unique per tenant as the store needs, so the
 * same command id reused on another stream is refused by the store itself.
 */
export function eventIdFor(commandId: string, index: number): string {
  return v5(`${index}:${commandId}`, EVENT_IDS);
}

/** A hash of the command's every field, in a fixed order: what tells a resend from another command under the same id. */
export function commandFingerprint(command: unknown): string {
  return createHash('sha256').update(canonicalJson(command)).digest('hex');
}

/** The command id was used before, for another command: a retry must repeat the command exactly. */
export class CommandIdReusedError extends Error {
  constructor(
    readonly commandId: string,
    /** The event the earlier command recorded, when it is in this stream; none when it is in another. */
    readonly recorded: RecordedEvent | undefined,
  ) {
    const where = recorded === undefined
      ? 'by a command on another stream'
      : `by ${recorded.eventType} at version ${recorded.version} of ${recorded.stream.aggregateId}, with other details`;
    super(`command id ${commandId} was used before ${where}`);
  }
}

/**
 * Collects, from events folded in stream order, the batch a command id recorded: its
 * events carry the ids eventIdFor(commandId, 0), (…, 1), … at consecutive versions. Each
 * event folded costs one comparison of strings.
 */
export class RecordedBatch {
  readonly events: RecordedEvent[] = [];
  private next: string;

  constructor(private readonly commandId: string) {
    this.next = eventIdFor(commandId, 0);
  }

  take(recorded: RecordedEvent): void {
    if (recorded.eventId !== this.next) return;
    this.events.push(recorded);
    this.next = eventIdFor(this.commandId, this.events.length);
  }

  get found(): boolean {
    return this.events.length > 0;
  }
}

/**
 * Looks for the command's batch in a stream, from its head back (a retry is most often of a
 * recent command): one page per round trip until found or the stream's start is reached.
 */
export async function findRecordedBatch(
  store: EventStore,
  where: { readonly tenantId: string; readonly aggregateId: string; readonly commandId: string },
): Promise<RecordedBatch> {
  const { tenantId, aggregateId, commandId } = where;
  const batch = new RecordedBatch(commandId);
  const first = eventIdFor(commandId, 0);
  let startVersion: number | undefined;
  for (let fromVersion = 0; startVersion === undefined; ) {
    const page = await store.readStream({ tenantId, aggregateId, fromVersion, maxCount: 0, direction: 'backward' });
    startVersion = page.events.find((recorded) => recorded.eventId === first)?.version;
    if (startVersion === undefined && page.isEnd) return batch;
    fromVersion = page.nextFromVersion;
  }
  for (let fromVersion = startVersion; ; ) {
    const page = await store.readStream({ tenantId, aggregateId, fromVersion, maxCount: 0, direction: 'forward' });
    const before = batch.events.length;
    for (const recorded of page.events) batch.take(recorded);
    // The batch ends at the first event that is not its next one.
    if (page.isEnd || batch.events.length - before < page.events.length) return batch;
    fromVersion = page.nextFromVersion;
  }
}

/** Whether the recorded batch is this very command: its first event carries the command's fingerprint. */
export function isSameCommand(batch: RecordedBatch, fingerprint: string): boolean {
  return batch.events[0]?.headers?.[COMMAND_HEADER] === fingerprint;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value).sort(([one], [other]) => (one < other ? -1 : one > other ? 1 : 0));
    return `{${fields.map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
