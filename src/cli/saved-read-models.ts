// The CLI's checkpoint layer: each read model a run needs starts from what the last run
// saved of it for this server and tenant, checked against the log, and is saved again when
// done, in a file of its own with its own checkpoint. So a run reads only the events since
// the last one, and only the files of the read models its command asks for.

import { dirname } from 'node:path';
import { restoreReadModel, snapshotOf } from '../read-side/checkpoint.ts';
import type { RestoredReadModel, RestoredReadModels } from '../read-side/checkpoint.ts';
import type { Checkpoint } from '../read-side/projector.ts';
import { listed, READ_MODEL_KEYS, READ_MODEL_NAMES } from '../read-side/read-models.ts';
import type { ReadModelKey, ReadModels } from '../read-side/read-models.ts';
import type { PartialReadSide } from '../wire.ts';
import { writeFileAtomically } from './checkpoint-file.ts';
import { oneCheckPerCheckpoint, openSave } from './saved-read-model.ts';
import type { ReadModelStart, Save, SaveOptions } from './saved-read-model.ts';

export type { ReadModelStart } from './saved-read-model.ts';

/** How often `shell` and `watch` save while events arrive: often enough to lose little, never per event. */
export const SAVE_EVERY_MS = 3_000;

export interface SavedReadModelsOptions extends SaveOptions {
  /** The read models this run follows (read-models-needed.ts); the files of the others are left alone. */
  readonly readModels: readonly ReadModelKey[];
  /** Told, in one line, when a save exists but cannot be used. */
  readonly notice: (line: string) => void;
  /** Told when a save cannot be written: never an error, at most a warning under --trace. */
  readonly warn: (line: string) => void;
}

type Saves = { readonly [K in ReadModelKey]?: Save<K> };

interface FileWrite {
  readonly save: Save<ReadModelKey>;
  readonly name: string;
  readonly path: string;
  readonly text: string;
}

export class SavedReadModels {
  private writing: Promise<void> = Promise.resolve();
  private writable = true;

  private constructor(
    private readonly options: SavedReadModelsOptions,
    private readonly saves: Saves,
  ) {}

  /**
   * Loads the saves of the read models this run follows, each checked against the log.
   * Never throws: a save that cannot be used costs that read model a replay, not the command.
   */
  static async open(options: SavedReadModelsOptions): Promise<SavedReadModels> {
    const checkLog = oneCheckPerCheckpoint(options);
    const open = <K extends ReadModelKey>(key: K): Promise<Save<K> | undefined> =>
      options.readModels.includes(key) ? openSave(key, options, checkLog) : Promise.resolve(undefined);
    const [accountSummaries, transactionHistories, customerPortfolios] = await Promise.all([open('accountSummaries'), open('transactionHistories'), open('customerPortfolios')]);
    const saved = new SavedReadModels(options, { accountSummaries, transactionHistories, customerPortfolios });
    saved.noticeUnusable();
    return saved;
  }

  /** Read models restored from their saves, new each call (watch follows the log with its own). */
  resume(): RestoredReadModels {
    return {
      accountSummaries: this.restored('accountSummaries'),
      transactionHistories: this.restored('transactionHistories'),
      customerPortfolios: this.restored('customerPortfolios'),
    };
  }

  /** The folder of the files; none with --memory or --fresh. */
  get folder(): string | undefined {
    const path = this.all().find((save) => save.path !== undefined)?.path;
    return path === undefined ? undefined : dirname(path);
  }

  /** Whether any read model of this run started from its save. */
  get resumedAny(): boolean {
    return this.all().some((save) => save.start.from === 'checkpoint');
  }

  startOf(key: ReadModelKey): ReadModelStart | undefined {
    return this.saves[key]?.start;
  }

  /** For --trace: where each read model this run follows started, and how many events it took in since. */
  describeStart(readSide: PartialReadSide): string {
    const groups = new Map<string, { start: ReadModelStart; names: string[]; events: number }>();
    for (const key of READ_MODEL_KEYS) {
      const readModel = readSide[key];
      if (readModel === undefined) continue;
      const start = this.saves[key]?.start ?? { from: 'log', why: 'no checkpoint' };
      const group = groups.get(JSON.stringify(start)) ?? { start, names: [], events: readSide.projector.eventsTakenIn(readModel) };
      group.names.push(READ_MODEL_NAMES[key]);
      groups.set(JSON.stringify(start), group);
    }
    return [...groups.values()].map(({ start, names, events }) => {
      const counted = `${events} event${events === 1 ? '' : 's'}`;
      return start.from === 'checkpoint'
        ? `${listed(names)} loaded at position ${start.position}, caught up ${counted}`
        : `${start.why}: ${listed(names)} replayed ${counted} from position 1`;
    }).join('; ');
  }

  /**
   * Saves each read model with the checkpoint it reflects, unless it has not moved on from
   * its file: one loaded further on than the projector has come yet is left as it was. Never throws.
   */
  async save(readSide: PartialReadSide): Promise<void> {
    const checkpoint = readSide.projector.checkpoint;
    if (!this.writable || checkpoint === undefined || hasFailed(readSide)) return;
    await this.write(readSide, checkpoint, { onlyIfPast: true });
  }

  /**
   * After `rebuild`: the rebuilt read models replace the saves when they equal the live
   * ones. When they do not, the live ones are suspect: the saves are left as they were and
   * nothing more is written this run.
   */
  async afterRebuild(rebuilt: PartialReadSide, equal: boolean): Promise<boolean> {
    if (!equal) this.writable = false;
    const checkpoint = rebuilt.projector.checkpoint;
    if (!this.writable || checkpoint === undefined || this.folder === undefined) return false;
    await this.write(rebuilt, checkpoint, { onlyIfPast: false });
    return this.all().every((save) => save.savedPosition === checkpoint.position);
  }

  /** For `shell` and `watch`: a save every few seconds while events arrive, not one per event. */
  saveEvery(readSide: PartialReadSide, everyMs = SAVE_EVERY_MS): { stop(): Promise<void> } {
    const timer = setInterval(() => void this.save(readSide), everyMs).unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await this.writing;
      },
    };
  }

  /** Takes every snapshot now, in one piece with the checkpoint; writes one file at a time, in order. */
  private write(readSide: PartialReadSide, checkpoint: Checkpoint, when: { onlyIfPast: boolean }): Promise<void> {
    const writes = this.options.readModels.map((key) => this.snapshotText(key, readSide, checkpoint, when));
    for (const write of writes) {
      if (write === undefined) continue;
      const { save, name, path, text } = write;
      this.writing = this.writing.then(async () => {
        try {
          await writeFileAtomically(path, text);
          save.savedPosition = checkpoint.position;
        } catch (error) {
          this.notSaved(name, path, error);
        }
      });
    }
    return this.writing;
  }

  /** One read model's file text, or none when it is not to be written. */
  private snapshotText<K extends ReadModelKey>(key: K, readSide: PartialReadSide, checkpoint: Checkpoint, when: { onlyIfPast: boolean }): FileWrite | undefined {
    const save = this.saves[key];
    const readModels: Partial<ReadModels> = readSide; // indexed by K, a Partial gives ReadModels[K] | undefined
    const readModel = readModels[key];
    if (save?.path === undefined || readModel === undefined) return undefined;
    // A read model stopped by a failure keeps its last good file: the next run meets the failure again.
    if (readSide.projector.stoppedModel(readModel) !== undefined) return undefined;
    const name = READ_MODEL_NAMES[key];
    // Until the projector passes the position it was loaded at, the file holds more than the read model would say it does.
    if (when.onlyIfPast && checkpoint.position <= save.savedPosition) return undefined;
    try {
      const savedFor = { address: this.options.address, tenantId: this.options.tenantId };
      return { save, name, path: save.path, text: JSON.stringify({ savedFor, ...snapshotOf(key, readModel, checkpoint, readSide.projector.parked) }) };
    } catch (error) {
      this.notSaved(name, save.path, error); // too large for one string, say: the next run replays instead
      return undefined;
    }
  }

  private notSaved(name: string, path: string, error: unknown): void {
    this.options.warn(`warning: ${name} could not be saved to ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }

  private restored<K extends ReadModelKey>(key: K): RestoredReadModel<K> | undefined {
    const loaded = this.saves[key]?.loaded;
    return loaded === undefined ? undefined : restoreReadModel(key, loaded);
  }

  private all(): Save<ReadModelKey>[] {
    return this.options.readModels.flatMap((key) => this.saves[key] ?? []);
  }

  /** One line per problem; read models of another log share theirs. */
  private noticeUnusable(): void {
    const namesByProblem = new Map<string, string[]>();
    for (const { key, unusable } of this.all()) {
      if (unusable !== undefined) namesByProblem.set(unusable, [...(namesByProblem.get(unusable) ?? []), READ_MODEL_NAMES[key]]);
    }
    for (const [problem, names] of namesByProblem) {
      this.options.notice(`note: saved ${listed(names)} not used: ${problem}; rebuilding ${names.length === 1 ? 'it' : 'them'} from position 1`);
    }
  }
}

function hasFailed(readSide: PartialReadSide): boolean {
  try {
    readSide.projector.throwIfFailed();
    return false;
  } catch {
    return true;
  }
}
