// Read side, checkpoint layer: each read model saved apart, together with the checkpoint it
// reflects, so a later start reads only the events since then instead of the whole log, and
// loads only the read models it needs. Skip it on a first reading: without it the projector
// simply starts from position 1.

import type { EventStore } from '../event-store/event-store.ts';
import { AccountSummaryReadModel } from './account-summary/account-summary.ts';
import { accountSummarySnapshotFrom } from './account-summary/snapshot.ts';
import type { AccountSummarySnapshot } from './account-summary/snapshot.ts';
import { CustomerPortfolioReadModel } from './customer-portfolio/customer-portfolio.ts';
import { customerPortfolioSnapshotFrom } from './customer-portfolio/snapshot.ts';
import type { CustomerPortfolioSnapshot } from './customer-portfolio/snapshot.ts';
import { mergeParked, parkedFrom } from './parked-events.ts';
import type { ParkedEvent } from './parked-events.ts';
import { fieldsOf, integer, text, timeMs, UnreadableSnapshotError } from './plain-data.ts';
import type { Checkpoint } from './projector.ts';
import { READ_MODEL_NAMES } from './read-models.ts';
import type { ReadModelKey, ReadModels } from './read-models.ts';
import { TransactionHistoryReadModel } from './transaction-history/transaction-history.ts';
import { transactionHistorySnapshotFrom } from './transaction-history/snapshot.ts';
import type { TransactionHistorySnapshot } from './transaction-history/snapshot.ts';

export { UnreadableSnapshotError } from './plain-data.ts';

/**
 * Raised whenever a save's form changes, so older saves are replayed, never misread. A read
 * model added later needs no raise: it has a file of its own, and a cache from before it
 * simply has none, so it alone is built from position 1 while the others resume.
 */
export const SNAPSHOT_FORMAT_VERSION = 3;

/** Each read model as plain JSON data. */
export interface Snapshots {
  readonly accountSummaries: AccountSummarySnapshot;
  readonly transactionHistories: TransactionHistorySnapshot;
  readonly customerPortfolios: CustomerPortfolioSnapshot;
}

/** Everything one read model's save holds: one piece, so the model and its checkpoint never disagree. */
export interface ReadModelSnapshot<K extends ReadModelKey = ReadModelKey> {
  readonly formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  /** The read model's name: a save of another one is refused, not misread. */
  readonly readModel: string;
  readonly checkpoint: Checkpoint;
  /** The events parked up to the checkpoint, so a resumed run still reports them. */
  readonly parked: readonly ParkedEvent[];
  readonly snapshot: Snapshots[K];
}

/** A read model restored from its save, and the checkpoint it reflects: it takes in only later events. */
export interface RestoredReadModel<K extends ReadModelKey> {
  readonly readModel: ReadModels[K];
  readonly checkpoint: Checkpoint;
  readonly parked: readonly ParkedEvent[];
}

/** The read models restored, each from its own save; a read model not here starts empty. */
export type RestoredReadModels = { readonly [K in ReadModelKey]?: RestoredReadModel<K> };

export type LogCheck = { readonly sameLog: true } | { readonly sameLog: false; readonly reason: string };

export function snapshotOf<K extends ReadModelKey>(key: K, readModel: ReadModels[K], checkpoint: Checkpoint, parked: readonly ParkedEvent[]): ReadModelSnapshot<K> {
  const parkedBefore = parked.filter((event) => event.position <= checkpoint.position);
  return { formatVersion: SNAPSHOT_FORMAT_VERSION, readModel: READ_MODEL_NAMES[key], checkpoint, parked: parkedBefore, snapshot: FORMS[key].snapshot(readModel) };
}

/** A new read model each call, so two projectors can start from one save. */
export function restoreReadModel<K extends ReadModelKey>(key: K, saved: ReadModelSnapshot<K>): RestoredReadModel<K> {
  return { readModel: FORMS[key].restore(saved.snapshot), checkpoint: saved.checkpoint, parked: saved.parked };
}

/** The events parked before any of these read models' checkpoints, each once: the projector reports them again. */
export function parkedBefore(resume: RestoredReadModels, readModels: readonly ReadModelKey[]): ParkedEvent[] {
  return mergeParked(...readModels.map((key) => resume[key]?.parked ?? []));
}

/**
 * Where a projector feeding these read models follows on from: the lowest of their
 * checkpoints, since each reflects the log up to there (those saved further on skip what
 * they hold already), or none, from position 1, if any of them starts empty.
 */
export function followOnFrom(resume: RestoredReadModels, readModels: readonly ReadModelKey[]): Checkpoint | undefined {
  let lowest: Checkpoint | undefined;
  for (const key of readModels) {
    const checkpoint = resume[key]?.checkpoint;
    if (checkpoint === undefined) return undefined;
    if (lowest === undefined || checkpoint.position < lowest.position) lowest = checkpoint;
  }
  return lowest;
}

/**
 * Whether the log holds the checkpoint's event at the checkpoint's position. Subscribe
 * starts at its position inclusive, so the first event it sends is the one there, if any:
 * the same id means the same log. Another id, a later event (our stores delete nothing, so
 * a gap means another log) or no event at all (the log ends before it) means another log:
 * a memory server restarted, or another database behind the same address.
 */
export async function checkSameLog(store: EventStore, tenantId: string, checkpoint: Checkpoint): Promise<LogCheck> {
  const { position, eventId, recordedAtMs } = checkpoint;
  const stop = new AbortController();
  try {
    for await (const message of store.subscribe({ tenantId, fromPosition: position, signal: stop.signal })) {
      if (message.kind === 'caught-up') return { sameLog: false, reason: `the log ends before position ${position}` };
      if (message.event.globalPosition !== position) return { sameLog: false, reason: `the log has no event at position ${position}` };
      if (message.event.eventId !== eventId || message.event.recordedAtMs !== recordedAtMs) {
        return { sameLog: false, reason: `the log holds another event at position ${position}` };
      }
      return { sameLog: true };
    }
    throw new Error('the event store ended the subscription');
  } finally {
    stop.abort();
  }
}

/** Checks one read model's save read from disk; throws an UnreadableSnapshotError saying what is wrong. */
export function readModelSnapshotFrom<K extends ReadModelKey>(key: K, data: unknown): ReadModelSnapshot<K> {
  const fields = fieldsOf(data, 'the save');
  const { formatVersion, readModel } = fields;
  if (formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    const found = typeof formatVersion === 'number' ? `format ${formatVersion}` : 'no format version';
    throw new UnreadableSnapshotError(`it has ${found}; this program reads format ${SNAPSHOT_FORMAT_VERSION}`);
  }
  const name = READ_MODEL_NAMES[key];
  if (readModel !== name) throw new UnreadableSnapshotError(`it holds ${typeof readModel === 'string' ? readModel : 'no named read model'}, not ${name}`);
  const saved = fieldsOf(fields.checkpoint, 'checkpoint');
  const checkpoint = {
    position: integer(saved, 'position', 'checkpoint', 1),
    eventId: text(saved, 'eventId', 'checkpoint'),
    recordedAtMs: timeMs(saved, 'recordedAtMs', 'checkpoint'),
  };
  const parked = parkedFrom(fields.parked, 'parked', checkpoint.position);
  return { formatVersion, readModel: name, checkpoint, parked, snapshot: FORMS[key].check(fields.snapshot, 'snapshot', checkpoint.position) };
}

// ---- each read model's trip to plain data and back ----------------------------------

interface SnapshotForm<K extends ReadModelKey> {
  snapshot(readModel: ReadModels[K]): Snapshots[K];
  /** The data checked; `maxPosition` is the checkpoint's, which the read model cannot be past. */
  check(data: unknown, where: string, maxPosition: number): Snapshots[K];
  restore(snapshot: Snapshots[K]): ReadModels[K];
}

const FORMS: { readonly [K in ReadModelKey]: SnapshotForm<K> } = {
  accountSummaries: {
    snapshot: (readModel) => readModel.snapshot(),
    check: accountSummarySnapshotFrom,
    restore: (snapshot) => AccountSummaryReadModel.restore(snapshot),
  },
  transactionHistories: {
    snapshot: (readModel) => readModel.snapshot(),
    check: transactionHistorySnapshotFrom,
    restore: (snapshot) => TransactionHistoryReadModel.restore(snapshot),
  },
  customerPortfolios: {
    snapshot: (readModel) => readModel.snapshot(),
    check: customerPortfolioSnapshotFrom,
    restore: (snapshot) => CustomerPortfolioReadModel.restore(snapshot),
  },
};
