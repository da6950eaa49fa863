// Composition: builds the write side (the BankAccount command handler) and the read side
// (the projector and its read models) around one event store. main.ts calls this; nothing
// else builds these parts, so the whole architecture can be read from this page.

import { isDeepStrictEqual } from 'node:util';
import { bankAccount } from './domain/bank-account.ts';
import type { BankAccountCommand, BankAccountEvent, BankAccountRejection } from './domain/bank-account.ts';
import { accountStream, decode, encode } from './domain/bank-account-codec.ts';
import type { EventStore } from './event-store/event-store.ts';
import { newId as newUuidV7 } from './ids.ts';
import { createCommandHandler } from './write-side/command-handler.ts';
import type { CommandHandler, CommandStep } from './write-side/command-handler.ts';
import { StateCache } from './write-side/state-cache.ts';
import { AccountSummaryProjection } from './read-side/account-summary/account-summary.ts';
import { TransactionHistoryProjection } from './read-side/transaction-history/transaction-history.ts';
import { Projector } from './read-side/projector.ts';
import type { ProjectorOptions } from './read-side/projector.ts';
import type { RestoredReadModels } from './read-side/checkpoint.ts';

export type BankCommandHandler = CommandHandler<BankAccountCommand, BankAccountEvent, BankAccountRejection>;
export type BankCommandStep = CommandStep<BankAccountEvent, BankAccountRejection>;

export interface ReadSide {
  readonly accountSummaries: AccountSummaryProjection;
  readonly transactionHistories: TransactionHistoryProjection;
  readonly projector: Projector;
}

export interface Bank extends ReadSide {
  /** The write side's entry: send a command, get the new events or the rule that refused it. */
  readonly handle: BankCommandHandler;
  /** Replays the log into fresh read models, as if the live ones had been thrown away. */
  rebuild(options?: Pick<ReadSideOptions, 'until' | 'onApplied'>): Promise<ReadSide>;
  /** Stops the projector; the store is the caller's to close. */
  stop(): Promise<void>;
}

export interface ReadSideOptions extends Pick<ProjectorOptions, 'store' | 'tenantId' | 'onApplied' | 'onProjected' | 'until'> {
  /** Read models restored from a checkpoint (read-side/checkpoint.ts), to follow on from there. */
  readonly resume?: RestoredReadModels;
}

export interface BankOptions extends Omit<ReadSideOptions, 'until'> {
  readonly newId?: () => string;
  readonly now?: () => number;
  readonly observeCommands?: (step: BankCommandStep) => void;
  /**
   * How many accounts' states the command handler remembers between commands (least
   * recently used go first), so a command on one of them costs one round trip; 0 turns
   * the cache off and every command reads its stream. Default 10 000.
   */
  readonly stateCacheSize?: number;
}

const DEFAULT_STATE_CACHE_SIZE = 10_000;

export function wireBank(options: BankOptions): Bank {
  const { store, tenantId, newId = newUuidV7, now = Date.now, stateCacheSize = DEFAULT_STATE_CACHE_SIZE } = options;
  const handle = createCommandHandler({
    store,
    tenantId,
    decider: bankAccount,
    streamOf: (command: BankAccountCommand) => accountStream(command.data.accountId),
    encode,
    decode,
    newEventId: newId,
    now,
    ...(stateCacheSize === 0 ? {} : { cache: new StateCache(stateCacheSize) }),
    ...(options.observeCommands === undefined ? {} : { observe: options.observeCommands }),
  });
  const readSide = wireReadSide(options);
  readSide.projector.start();
  return {
    handle,
    ...readSide,
    rebuild: (replay = {}) => rebuildReadSide({ store, tenantId, ...replay }),
    stop: () => readSide.projector.stop(),
  };
}

/** Read models, fresh or resumed, and a projector to fill them from the log (not yet started). */
export function wireReadSide(options: ReadSideOptions): ReadSide {
  const { resume, ...following } = options;
  const accountSummaries = resume?.accountSummaries ?? new AccountSummaryProjection();
  const transactionHistories = resume?.transactionHistories ?? new TransactionHistoryProjection();
  const projector = new Projector({ ...following, projections: [accountSummaries, transactionHistories], resumeAfter: resume?.checkpoint });
  return { accountSummaries, transactionHistories, projector };
}

/** Fresh read models filled from position 0 up to the end of the log as it stands now. */
export async function rebuildReadSide(options: ReadSideOptions): Promise<ReadSide> {
  const readSide = wireReadSide(options);
  readSide.projector.start();
  try {
    await readSide.projector.caughtUp;
  } finally {
    await readSide.projector.stop();
  }
  return readSide;
}

/** Whether two sets of read models hold the same answers: how a rebuild proves itself. */
export function sameReadModels(one: ReadSide, other: ReadSide): boolean {
  const histories = (readSide: ReadSide) => readSide.transactionHistories.accountIds().sort();
  return isDeepStrictEqual(one.accountSummaries.all(), other.accountSummaries.all())
    && isDeepStrictEqual(histories(one), histories(other))
    && histories(one).every((id) => isDeepStrictEqual(one.transactionHistories.of(id), other.transactionHistories.of(id)));
}
