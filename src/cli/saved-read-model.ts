// The CLI's checkpoint layer, one read model at a time: where its save lives, and the save
// read and checked in three steps (readable, of this format and read model, of this very log)
// before it is believed; otherwise why not, and the read model starts from position 1.

import { isDeepStrictEqual } from 'node:util';
import type { EventStore } from '../event-store/event-store.ts';
import { checkSameLog, readModelSnapshotFrom } from '../read-side/checkpoint.ts';
import type { LogCheck, ReadModelSnapshot } from '../read-side/checkpoint.ts';
import type { Checkpoint } from '../read-side/projector.ts';
import { READ_MODEL_NAMES } from '../read-side/read-models.ts';
import type { ReadModelKey } from '../read-side/read-models.ts';
import { checkpointFilePath, readCheckpointFile } from './checkpoint-file.ts';

/** Where one read model started this run: its checkpoint, or position 1 and why. */
export type ReadModelStart =
  | { readonly from: 'checkpoint'; readonly position: number }
  | { readonly from: 'log'; readonly why: string };

export interface SaveOptions {
  readonly store: EventStore;
  readonly tenantId: string;
  /** The server's address; none for a store in this process, which has nothing to resume. */
  readonly address: string | undefined;
  /** --fresh: neither read nor write the files this run. */
  readonly fresh: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** One read model's save: where it lives, what was loaded from it, and the position its file is at. */
export interface Save<K extends ReadModelKey> {
  readonly key: K;
  /** None with --memory or --fresh. */
  readonly path: string | undefined;
  /** The save, checked against the log; none when the read model starts from position 1. */
  readonly loaded: ReadModelSnapshot<K> | undefined;
  readonly start: ReadModelStart;
  /** Why a save that exists was not used, to be told in one line. */
  readonly unusable: string | undefined;
  /** The checkpoint position in the file: the one loaded (0 for none), then each one written. */
  savedPosition: number;
}

type CheckLog = (checkpoint: Checkpoint) => Promise<LogCheck>;

type Load<K extends ReadModelKey> = { readonly loaded: ReadModelSnapshot<K> } | { readonly why: string; readonly unusable?: string };

/** checkSameLog, once for read models saved at the same checkpoint: they share one look at the log. */
export function oneCheckPerCheckpoint({ store, tenantId }: SaveOptions): CheckLog {
  const checks = new Map<string, Promise<LogCheck>>();
  return (checkpoint) => {
    const key = `${checkpoint.position} ${checkpoint.eventId}`;
    const check = checks.get(key) ?? checkSameLog(store, tenantId, checkpoint);
    checks.set(key, check);
    return check;
  };
}

/** Never throws: a save that cannot be used costs its read model a replay, not the command. */
export async function openSave<K extends ReadModelKey>(key: K, options: SaveOptions, checkLog: CheckLog): Promise<Save<K>> {
  const { address, tenantId } = options;
  const fromLog = (why: string, path?: string, unusable?: string): Save<K> => ({ key, path, loaded: undefined, start: { from: 'log', why }, unusable, savedPosition: 0 });
  if (address === undefined) return fromLog('no checkpoint (the store lives in this process)');
  if (options.fresh) return fromLog('no checkpoint read (--fresh)');
  const path = checkpointFilePath({ address, tenantId, readModel: READ_MODEL_NAMES[key] }, options.env);
  const load = await loadSave(key, path, options, checkLog);
  if ('why' in load) return fromLog(load.why, path, load.unusable);
  const { position } = load.loaded.checkpoint;
  return { key, path, loaded: load.loaded, start: { from: 'checkpoint', position }, unusable: undefined, savedPosition: position };
}

/** One save checked in three steps: readable, of this program's format and read model, of this very log. */
async function loadSave<K extends ReadModelKey>(key: K, path: string, options: SaveOptions, checkLog: CheckLog): Promise<Load<K>> {
  const unusable = (problem: string): Load<K> => ({ why: `checkpoint not used: ${problem}`, unusable: problem });
  let text: string;
  try {
    const read = await readCheckpointFile(path);
    if (!read.found) return { why: 'no checkpoint' };
    text = read.text;
  } catch (error) {
    return unusable(`${path} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  let loaded: ReadModelSnapshot<K>;
  try {
    const data: unknown = JSON.parse(text);
    loaded = readModelSnapshotFrom(key, data);
    const savedFor = typeof data === 'object' && data !== null && 'savedFor' in data ? data.savedFor : undefined;
    if (!isDeepStrictEqual(savedFor, { address: options.address, tenantId: options.tenantId })) {
      return unusable(`${path} was saved for another server or tenant`);
    }
  } catch (error) {
    // Whatever a file from disk does to the parser or the checks, it only costs a replay.
    if (error instanceof SyntaxError) return unusable(`${path} is not JSON`);
    return unusable(`${path} is unreadable: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const check = await checkLog(loaded.checkpoint);
    return check.sameLog ? { loaded } : unusable(`the log at ${options.address} is another one (${check.reason})`);
  } catch (error) {
    // The store failed; the projector will meet the same failure and report it as usual.
    return unusable(`the log at ${options.address} could not be checked (${error instanceof Error ? error.message : String(error)})`);
  }
}

