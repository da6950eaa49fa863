// Composition: builds the write side (the BankAccount command handler) and the read side
// (the projector and its read models) around one event store. main.ts calls this; nothing
// else builds these parts, so the whole architecture can be read from this page.

import { isDeepStrictEqual } from 'node:util';
import { bankAccount, commandIdOf, isRecordedBy } from './domain/bank-account.ts';
import type { BankAccountCommand, BankAccountEvent, BankAccountRejection } from './domain/bank-account.ts';
import { accountStream, decode, encode } from './domain/bank-account-codec.ts';
import type { EventStore } from './event-store/event-store.ts';
import { createCommandHandler } from './write-side/command-handler.ts';
import type { CommandHandler, CommandStep } from './write-side/command-handler.ts';
import { StateCache } from './write-side/state-cache.ts';
import { AccountSummaryReadModel } from './read-side/account-summary/account-summary.ts';
import { TransactionHistoryReadModel } from './read-side/transaction-history/transaction-history.ts';
import { CustomerPortfolioReadModel } from './read-side/customer-portfolio/customer-portfolio.ts';
import { Projector } from './read-side/projector.ts';
import type { ProjectorOptions } from './read-side/projector.ts';
import { needReadModels, READ_MODEL_KEYS } from './read-side/read-models.ts';
import type { ReadModelKey, ReadModels } from './read-side/read-models.ts';
import { followOnFrom, parkedBefore } from './read-side/checkpoint.ts';
import type { RestoredReadModels } from './read-side/checkpoint.ts';

export type BankCommandHandler = CommandHandler<BankAccountCommand, BankAccountEvent, BankAccountRejection>;
export type BankCommandStep = CommandStep<BankAccountEvent, BankAccountRejection>;

/** Every read model, and the projector that feeds them. */
export interface ReadSide extends ReadModels {
  readonly projector: Projector;
}

/**
 * Only the read models a run chose to follow (the CLI loads just those its command needs),
 * and the projector that feeds them: needReadModels (read-side/read-models.ts) reaches them.
 */
export interface PartialReadSide extends Partial<ReadModels> {
  readonly projector: Projector;
}

/** The write side and the read side around one store; every read model unless some were chosen. */
export type Bank<Side extends PartialReadSide = ReadSide> = Side & {
  /** The write side's entry: send a command, get the new events or the rule that refused it. */
  readonly handle: BankCommandHandler;
  /**
   * Another write side over the same store, with a state cache of its own, as a second
   * process (a second teller) would have: what the walkthrough races against `handle`.
   */
  anotherWriter(observe?: (step: BankCommandStep) => void): BankCommandHandler;
  /**
   * Replays the log into fresh read models, as if the live ones had been thrown away: all of
   * them, or those chosen (a read model added later is built just so, from the log as it is).
   */
  rebuild(options: ReplayOptions & ChosenReadModels): Promise<PartialReadSide>;
  rebuild(options?: ReplayOptions): Promise<ReadSide>;
  /** Stops the projector; the store is the caller's to close. */
  stop(): Promise<void>;
};

export interface ReadSideOptions extends Pick<ProjectorOptions, 'store' | 'tenantId' | 'onApplied' | 'onProjected' | 'onParked' | 'onReadModelStopped' | 'until'> {
  /** Read models restored from their checkpoints (read-side/checkpoint.ts), to follow on from there. */
  readonly resume?: RestoredReadModels;
}

/** A replay someone may give up on: aborting the signal stops it and rejects with the signal's reason. */
export interface ReplayOptions extends Pick<ReadSideOptions, 'until' | 'onApplied'> {
  readonly signal?: AbortSignal;
}

/** The read models to wire, when not all: the others are left out, not empty. */
export interface ChosenReadModels {
  readonly readModels: readonly ReadModelKey[];
}

export interface BankOptions extends Omit<ReadSideOptions, 'until'> {
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

export function wireBank(options: BankOptions & ChosenReadModels): Bank<PartialReadSide>;
export function wireBank(options: BankOptions): Bank;
export function wireBank(options: BankOptions & Partial<ChosenReadModels>): Bank<PartialReadSide> {
  const { store, tenantId, now = Date.now, stateCacheSize = DEFAULT_STATE_CACHE_SIZE } = options;
  const writeSide = (observe: ((step: BankCommandStep) => void) | undefined): BankCommandHandler =>
    createCommandHandler({
      store,
      tenantId,
      decider: bankAccount,
      streamOf: (command: BankAccountCommand) => accountStream(command.data.accountId),
      encode,
      decode,
      commandIdOf,
      isRecordedBy,
      now,
      ...(stateCacheSize === 0 ? {} : { cache: new StateCache(stateCacheSize) }),
      ...(observe === undefined ? {} : { observe }),
    });
  const handle = writeSide(options.observeCommands);
  const { readModels = READ_MODEL_KEYS } = options;
  const readSide = wireReadSide({ ...options, readModels });
  // With no read model to feed (the CLI's `events`), there is nothing to follow.
  if (readModels.length > 0) readSide.projector.start();
  return {
    handle,
    anotherWriter: writeSide,
    ...readSide,
    rebuild: (replay: ReplayOptions & Partial<ChosenReadModels> = {}) => rebuildReadSide({ store, tenantId, ...replay }),
    stop: () => readSide.projector.stop(),
  };
}

/** Read models, fresh or resumed, and a projector to fill them from the log (not yet started). */
export function wireReadSide(options: ReadSideOptions & ChosenReadModels): PartialReadSide;
export function wireReadSide(options: ReadSideOptions): ReadSide;
export function wireReadSide(options: ReadSideOptions & Partial<ChosenReadModels>): PartialReadSide {
  const { resume = {}, readModels = READ_MODEL_KEYS, ...following } = options;
  const wired = (key: ReadModelKey): boolean => readModels.includes(key);
  const accountSummaries = wired('accountSummaries') ? resume.accountSummaries?.readModel ?? new AccountSummaryReadModel() : undefined;
  const transactionHistories = wired('transactionHistories') ? resume.transactionHistories?.readModel ?? new TransactionHistoryReadModel() : undefined;
  const customerPortfolios = wired('customerPortfolios') ? resume.customerPortfolios?.readModel ?? new CustomerPortfolioReadModel() : undefined;
  const projections = [accountSummaries, transactionHistories, customerPortfolios].filter((projection) => projection !== undefined);
  const resumeAfter = followOnFrom(resume, readModels);
  const projector = new Projector({ ...following, projections, resumeAfter, parked: parkedBefore(resume, readModels) });
  return { accountSummaries, transactionHistories, customerPortfolios, projector };
}

/** Fresh read models, all or those chosen, filled from position 0 up to the end of the log as it stands now. */
export async function rebuildReadSide(options: ReadSideOptions & ChosenReadModels & Pick<ReplayOptions, 'signal'>): Promise<PartialReadSide>;
export async function rebuildReadSide(options: ReadSideOptions & Pick<ReplayOptions, 'signal'>): Promise<ReadSide>;
export async function rebuildReadSide(options: ReadSideOptions & Partial<ChosenReadModels> & Pick<ReplayOptions, 'signal'>): Promise<PartialReadSide> {
  const { signal, ...wiring } = options;
  signal?.throwIfAborted();
  const readSide = wireReadSide({ ...wiring, readModels: wiring.readModels ?? READ_MODEL_KEYS });
  readSide.projector.start();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([readSide.projector.caughtUp, aborted]);
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    // Stopping ends the replay's subscription: an interrupted replay stops reading the log.
    await readSide.projector.stop();
  }
  return readSide;
}

/**
 * Whether two sets of read models hold the same answers, in every read model or those named:
 * how a rebuild proves itself. Naming one that either side left out is a slip, and throws.
 */
export function sameReadModels(one: PartialReadSide, other: PartialReadSide, keys: readonly ReadModelKey[] = READ_MODEL_KEYS): boolean {
  return keys.every((key) => sameAnswers(key, one, other));
}

function sameAnswers<K extends ReadModelKey>(key: K, one: PartialReadSide, other: PartialReadSide): boolean {
  const held = (readSide: PartialReadSide): ReadModels[K] => {
    const readModels: Pick<ReadModels, K> = needReadModels(readSide, key);
    return readModels[key];
  };
  return SAME_ANSWERS[key](held(one), held(other));
}

const SAME_ANSWERS: { readonly [K in ReadModelKey]: (one: ReadModels[K], other: ReadModels[K]) => boolean } = {
  accountSummaries: (one, other) => isDeepStrictEqual(one.all(), other.all()),
  transactionHistories: (one, other) => {
    const ids = one.accountIds().sort();
    return isDeepStrictEqual(ids, other.accountIds().sort()) && ids.every((id) => isDeepStrictEqual(one.of(id), other.of(id)));
  },
  customerPortfolios: (one, other) => isDeepStrictEqual(one.all(), other.all()),
};
