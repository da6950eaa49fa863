// Read side, checkpoint layer: the read models saved together with the checkpoint they
// reflect, so a later start reads only the events since then instead of the whole log.
// Skip it on a first reading: without it the projector simply starts from position 1.

import type { EventStore } from '../event-store/event-store.ts';
import { AccountSummaryProjection } from './account-summary/account-summary.ts';
import { accountSummarySnapshotFrom } from './account-summary/snapshot.ts';
import type { AccountSummarySnapshot } from './account-summary/snapshot.ts';
import { fieldsOf, integer, text, UnreadableSnapshotError } from './plain-data.ts';
import type { Checkpoint } from './projector.ts';
import { TransactionHistoryProjection } from './transaction-history/transaction-history.ts';
import { transactionHistorySnapshotFrom } from './transaction-history/snapshot.ts';
import type { TransactionHistorySnapshot } from './transaction-history/snapshot.ts';

export { UnreadableSnapshotError } from './plain-data.ts';

/** Raised whenever a read model's snapshot form changes, so older saves are replayed, never misread. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** Everything a save holds, as plain JSON data: one piece, so models and checkpoint never disagree. */
export interface ReadModelsSnapshot {
  readonly formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  readonly checkpoint: Checkpoint;
  readonly accountSummary: AccountSummarySnapshot;
  readonly transactionHistory: TransactionHistorySnapshot;
}

export interface ReadModels {
  readonly accountSummaries: AccountSummaryProjection;
  readonly transactionHistories: TransactionHistoryProjection;
}

export interface RestoredReadModels extends ReadModels {
  readonly checkpoint: Checkpoint;
}

export type LogCheck = { readonly sameLog: true } | { readonly sameLog: false; readonly reason: string };

export function snapshotOf(readModels: ReadModels, checkpoint: Checkpoint): ReadModelsSnapshot {
  return {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    checkpoint,
    accountSummary: readModels.accountSummaries.snapshot(),
    transactionHistory: readModels.transactionHistories.snapshot(),
  };
}

/** New read models each call, so two projectors can start from one snapshot. */
export function restoreReadModels(snapshot: ReadModelsSnapshot): RestoredReadModels {
  return {
    accountSummaries: AccountSummaryProjection.restore(snapshot.accountSummary),
    transactionHistories: TransactionHistoryProjection.restore(snapshot.transactionHistory),
    checkpoint: snapshot.checkpoint,
  };
}

/**
 * Whether the log holds the checkpoint's event at the checkpoint's position. Subscribe
 * starts at its position inclusive, so the first event it sends is the one there, if any:
 * the same id means the same log. Another id, a later event (our stores delete nothing, so
 * a gap means another log) or no event at all (the log ends before it) means another log:
 * a memory server restarted, or another database behind the same address.
 */
export async function checkSameLog(store: EventStore, tenantId: string, checkpoint: Checkpoint): Promise<LogCheck> {
  const { position, eventId } = checkpoint;
  const stop = new AbortController();
  try {
    for await (const message of store.subscribe({ tenantId, fromPosition: position, signal: stop.signal })) {
      if (message.kind === 'caught-up') return { sameLog: false, reason: `the log ends before position ${position}` };
      if (message.event.globalPosition !== position) return { sameLog: false, reason: `the log has no event at position ${position}` };
      if (message.event.eventId !== eventId) return { sameLog: false, reason: `the log holds another event at position ${position}` };
      return { sameLog: true };
    }
    throw new Error('the event store ended the subscription');
  } finally {
    stop.abort();
  }
}

/** Checks data read from disk; throws an UnreadableSnapshotError saying what is wrong. */
export function readModelsSnapshotFrom(data: unknown): ReadModelsSnapshot {
  const fields = fieldsOf(data, 'the save');
  const { formatVersion } = fields;
  if (formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    const found = typeof formatVersion === 'number' ? `format ${formatVersion}` : 'no format version';
    throw new UnreadableSnapshotError(`it has ${found}; this program reads format ${SNAPSHOT_FORMAT_VERSION}`);
  }
  const saved = fieldsOf(fields.checkpoint, 'checkpoint');
  const checkpoint = { position: integer(saved, 'position', 'checkpoint', 1), eventId: text(saved, 'eventId', 'checkpoint') };
  return {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    checkpoint,
    accountSummary: accountSummarySnapshotFrom(fields.accountSummary, 'accountSummary', checkpoint.position),
    transactionHistory: transactionHistorySnapshotFrom(fields.transactionHistory, 'transactionHistory', checkpoint.position),
  };
}
