// What every CLI command works with: the wired bank, the store under it, the files its read
// models are saved in, and where output goes. main.ts builds one per process; the shell
// keeps one for its whole session.

import type { EventStore } from '../event-store/event-store.ts';
import type { Bank, PartialReadSide } from '../wire.ts';
import type { SavedReadModels } from './saved-read-models.ts';
import type { Output } from './terminal.ts';
import type { Tracer } from './trace.ts';

export interface CliContext {
  /** With only the read models its command reads (read-models-needed.ts): needReadModels reaches them. */
  readonly bank: Bank<PartialReadSide>;
  readonly store: EventStore;
  readonly tenantId: string;
  readonly storeDescription: string;
  readonly newId: () => string;
  readonly out: Output;
  readonly tracer: Tracer;
  /** The read models' checkpoints: where each started, and saving them for the next run. */
  readonly savedReadModels: SavedReadModels;
  /**
   * Set for a line typed at the shell: aborts when Ctrl-C interrupts it, and then what the
   * command was still reading (a replay, the log) stops, rather than running on unseen.
   */
  readonly interrupted?: AbortSignal;
}
