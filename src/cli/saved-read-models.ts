// The CLI's checkpoint layer: each run starts its read models from the ones the last run
// saved for this server and tenant, checked against the log, and saves them again when
// done, so a run reads only the events since the last one instead of the whole log.

import { isDeepStrictEqual } from 'node:util';
import type { EventStore } from '../event-store/event-store.ts';
import { checkSameLog, readModelsSnapshotFrom, restoreReadModels, snapshotOf } from '../read-side/checkpoint.ts';
import type { ReadModelsSnapshot, RestoredReadModels } from '../read-side/checkpoint.ts';
import type { ReadSide } from '../wire.ts';
import { checkpointFilePath, readCheckpointFile, writeFileAtomically } from './checkpoint-file.ts';

/** How often `shell` and `watch` save while events arrive: often enough to lose little, never per event. */
export const SAVE_EVERY_MS = 3_000;

/** Where this run's read models started: a checkpoint, or position 1 and why. */
export type ReadModelsStart =
  | { readonly from: 'checkpoint'; readonly position: number }
  | { readonly from: 'log'; readonly why: string };

export interface SavedReadModelsOptions {
  readonly store: EventStore;
  readonly tenantId: string;
  /** The server's address; none for a store in this process, which has nothing to resume. */
  readonly address: string | undefined;
  /** --fresh: neither read nor write the file this run. */
  readonly fresh: boolean;
  /** Told, in one line, when a save exists but cannot be used. */
  readonly notice: (line: string) => void;
  /** Told when a save cannot be written: never an error, at most a warning under --trace. */
  readonly warn: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

type Load = { readonly snapshot: ReadModelsSnapshot } | { readonly why: string; readonly unusable?: string };

export class SavedReadModels {
  private savedPosition: number;
  private writing: Promise<void> = Promise.resolve();
  private writable: boolean;

  private constructor(
    private readonly options: SavedReadModelsOptions,
    /** Where this run reads and writes; none with --memory or --fresh. */
    readonly path: string | undefined,
    private readonly snapshot: ReadModelsSnapshot | undefined,
    readonly start: ReadModelsStart,
  ) {
    this.savedPosition = snapshot?.checkpoint.position ?? 0;
    this.writable = path !== undefined;
  }

  /**
   * Loads the save for this address and tenant, if any, and checks it against the log.
   * Never throws: a save that cannot be used costs a replay, not the command.
   */
  static async open(options: SavedReadModelsOptions): Promise<SavedReadModels> {
    const { address, tenantId } = options;
    if (address === undefined) return new SavedReadModels(options, undefined, undefined, { from: 'log', why: 'no checkpoint (the store lives in this process)' });
    if (options.fresh) return new SavedReadModels(options, undefined, undefined, { from: 'log', why: 'no checkpoint read (--fresh)' });
    const path = checkpointFilePath({ address, tenantId }, options.env);
    const load = await loadSave(path, options);
    if ('snapshot' in load) return new SavedReadModels(options, path, load.snapshot, { from: 'checkpoint', position: load.snapshot.checkpoint.position });
    if (load.unusable !== undefined) options.notice(`note: saved read models not used: ${load.unusable}; rebuilding them from position 1`);
    return new SavedReadModels(options, path, undefined, { from: 'log', why: load.why });
  }

  /** Read models restored from the save, new each call (watch follows the log with its own). */
  resume(): RestoredReadModels | undefined {
    return this.snapshot === undefined ? undefined : restoreReadModels(this.snapshot);
  }

  /** For --trace: where the read models started and how many events they took in since. */
  describeStart(eventsApplied: number): string {
    const events = `${eventsApplied} event${eventsApplied === 1 ? '' : 's'}`;
    return this.start.from === 'checkpoint'
      ? `read models loaded at position ${this.start.position}, caught up ${events}`
      : `${this.start.why}: replayed ${events} from position 1`;
  }

  /** Saves the read models with their checkpoint, unless nothing moved since the last save. Never throws. */
  async save(readSide: ReadSide): Promise<void> {
    const checkpoint = readSide.projector.checkpoint;
    if (!this.writable || checkpoint === undefined || checkpoint.position === this.savedPosition || hasFailed(readSide)) return;
    await this.write(readSide);
  }

  /**
   * After `rebuild`: the rebuilt read models replace the save when they equal the live
   * ones. When they do not, the live ones are suspect: the save is left as it was and
   * nothing more is written this run.
   */
  async afterRebuild(rebuilt: ReadSide, equal: boolean): Promise<boolean> {
    if (!equal) this.writable = false;
    if (!this.writable || rebuilt.projector.checkpoint === undefined) return false;
    await this.write(rebuilt);
    return this.savedPosition === rebuilt.projector.position;
  }

  /** For `shell` and `watch`: a save every few seconds while events arrive, not one per event. */
  saveEvery(readSide: ReadSide, everyMs = SAVE_EVERY_MS): { stop(): Promise<void> } {
    const timer = setInterval(() => void this.save(readSide), everyMs).unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await this.writing;
      },
    };
  }

  /** Takes the snapshot now, in one piece with its checkpoint; writes one file at a time, in order. */
  private write(readSide: ReadSide): Promise<void> {
    const { path } = this;
    const checkpoint = readSide.projector.checkpoint;
    if (path === undefined || checkpoint === undefined) return this.writing;
    const notSaved = (error: unknown): void => {
      this.options.warn(`warning: the read models could not be saved to ${path}: ${error instanceof Error ? error.message : String(error)}`);
    };
    let text: string;
    try {
      const savedFor = { address: this.options.address, tenantId: this.options.tenantId };
      text = JSON.stringify({ savedFor, ...snapshotOf(readSide, checkpoint) });
    } catch (error) {
      notSaved(error); // too large for one string, say: the next run replays instead
      return this.writing;
    }
    this.writing = this.writing.then(async () => {
      try {
        await writeFileAtomically(path, text);
        this.savedPosition = checkpoint.position;
      } catch (error) {
        notSaved(error);
      }
    });
    return this.writing;
  }
}

/** The save checked in three steps: readable, of this program's format, of this very log. */
async function loadSave(path: string, options: SavedReadModelsOptions): Promise<Load> {
  const unusable = (problem: string): Load => ({ why: `checkpoint not used: ${problem}`, unusable: problem });
  let text: string;
  try {
    const read = await readCheckpointFile(path);
    if (!read.found) return { why: 'no checkpoint' };
    text = read.text;
  } catch (error) {
    return unusable(`${path} cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  let snapshot: ReadModelsSnapshot;
  try {
    const data: unknown = JSON.parse(text);
    snapshot = readModelsSnapshotFrom(data);
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
    const check = await checkSameLog(options.store, options.tenantId, snapshot.checkpoint);
    return check.sameLog ? { snapshot } : unusable(`they are of another log than the one at ${options.address} (${check.reason})`);
  } catch (error) {
    // The store failed; the projector will meet the same failure and report it as usual.
    return unusable(`the log at ${options.address} could not be checked (${error instanceof Error ? error.message : String(error)})`);
  }
}

function hasFailed(readSide: ReadSide): boolean {
  try {
    readSide.projector.throwIfFailed();
    return false;
  } catch {
    return true;
  }
}
