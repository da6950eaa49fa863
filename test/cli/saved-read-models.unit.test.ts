// The CLI's checkpoint layer: each read model resumes from what the last run saved of it and
// reads only the newer events; a run that needs one read model reads and writes that one's
// file alone, and the next run that needs the other catches it up from its own checkpoint; a
// save it cannot use (unreadable, garbled, of an older format, of another log) is said in one
// line and that read model alone replayed from position 1, as is one the cache has no file of
// (a read model added since the files were written) while the others resume; saving never fails.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { checkpointFilePath } from '../../src/cli/checkpoint-file.ts';
import { SavedReadModels } from '../../src/cli/saved-read-models.ts';
import type { ReadModelStart } from '../../src/cli/saved-read-models.ts';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { getTransactionHistory } from '../../src/read-side/transaction-history/queries.ts';
import { needReadModels, READ_MODEL_KEYS, READ_MODEL_NAMES } from '../../src/read-side/read-models.ts';
import type { ReadModelKey } from '../../src/read-side/read-models.ts';
import { rebuildReadSide, sameReadModels, wireBank, wireReadSide } from '../../src/wire.ts';
import type { PartialReadSide, ReadSideOptions } from '../../src/wire.ts';
import { withSubscribe } from '../support/stores.ts';
import { until } from '../support/until.ts';

const ADDRESS = '127.0.0.1:50051';
const TENANT = 'tenant-1';
const SUMMARIES_ONLY: readonly ReadModelKey[] = ['accountSummaries'];

let cacheHome = '';
const opened: PartialReadSide[] = [];
const stores: InMemoryEventStore[] = [];
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'saved-read-models-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((readSide) => readSide.projector.stop()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await rm(cacheHome, { recursive: true, force: true });
});

describe('a run against a server', () => {
  it('replays the log when nothing is saved, saves each read model, and the next run reads only the newer events', async () => {
    const store = await storeWith(3);
    const first = await open(store);
    expect(startsOf(first.saved)).toEqual(allFrom({ from: 'log', why: 'no checkpoint' }));
    expect(first.saved.resume()).toStrictEqual({ accountSummaries: undefined, transactionHistories: undefined, customerPortfolios: undefined });
    const replayed = await caughtUp(store, first.saved);
    expect(first.saved.describeStart(replayed)).toBe('no checkpoint: AccountSummary, TransactionHistory and CustomerPortfolio replayed 3 events from position 1');
    await first.saved.save(replayed);
    expect(await savedPosition('accountSummaries')).toBe(3);
    expect(await savedPosition('transactionHistories')).toBe(3);

    await append(store, deposit('acc-0', 5_00), deposit('acc-1', 6_00));
    const second = await open(store);
    expect(startsOf(second.saved)).toEqual(allFrom({ from: 'checkpoint', position: 3 }));
    const resumed = needReadModels(await caughtUp(store, second.saved), ...READ_MODEL_KEYS);
    expect(resumed.projector.eventsApplied).toBe(2);
    expect(second.saved.describeStart(resumed)).toBe('AccountSummary, TransactionHistory and CustomerPortfolio loaded at position 3, caught up 2 events');
    expect(resumed.accountSummaries.get('acc-1')?.balanceCents).toBe(6_00);
    expect(sameReadModels(resumed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
    expect([...first.notices, ...second.notices, ...first.warnings, ...second.warnings]).toEqual([]);
  });

  it('loads and writes only the read models the run needs: the other file is neither read nor touched', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    await writeFile(pathOf('transactionHistories'), 'not even JSON');
    const untouched = await fileState('transactionHistories');
    await append(store, deposit('acc-0', 5_00));

    const { saved, notices } = await open(store, { readModels: SUMMARIES_ONLY });
    expect(saved.startOf('transactionHistories')).toBeUndefined(); // its file was never read
    expect(notices).toEqual([]);
    expect(saved.resume()).toStrictEqual({ accountSummaries: expect.anything(), transactionHistories: undefined, customerPortfolios: undefined });
    const summaries = await caughtUp(store, saved, { readModels: SUMMARIES_ONLY });
    expect(summaries.transactionHistories).toBeUndefined();
    expect(saved.describeStart(summaries)).toBe('AccountSummary loaded at position 3, caught up 1 event');
    await saved.save(summaries);
    expect(await savedPosition('accountSummaries')).toBe(4);
    expect(await fileState('transactionHistories')).toEqual(untouched);
  });

  it('catches up a read model left out of earlier runs from its own older checkpoint, and answers as a replay would', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    const historyAt3 = await fileState('transactionHistories');
    // Two runs that need only AccountSummary (say `deposit` and `summary`) move it on alone.
    await append(store, deposit('acc-0', 5_00), deposit('acc-1', 6_00));
    await runNeeding(store, SUMMARIES_ONLY);
    await append(store, deposit('acc-0', 7_00));
    await runNeeding(store, SUMMARIES_ONLY);
    expect(await savedPosition('accountSummaries')).toBe(6);
    expect(await fileState('transactionHistories')).toEqual(historyAt3);

    // A run that needs both (`history`): each resumes from its own checkpoint.
    const { saved, notices } = await open(store);
    expect(notices).toEqual([]);
    expect(startsOf(saved)).toEqual({ accountSummaries: { from: 'checkpoint', position: 6 }, transactionHistories: { from: 'checkpoint', position: 3 }, customerPortfolios: { from: 'checkpoint', position: 3 } });
    const applied: number[] = [];
    const both = needReadModels(await caughtUp(store, saved, { onApplied: (recorded) => void applied.push(recorded.globalPosition) }), ...READ_MODEL_KEYS);
    expect(applied).toEqual([4, 5, 6]); // from the lowest checkpoint on
    expect(both.projector.eventsTakenIn(both.transactionHistories)).toBe(3);
    expect(both.projector.eventsTakenIn(both.accountSummaries)).toBe(0);
    expect(saved.describeStart(both)).toBe('AccountSummary loaded at position 6, caught up 0 events; TransactionHistory and CustomerPortfolio loaded at position 3, caught up 3 events');
    expect(getTransactionHistory(both.transactionHistories, { accountId: 'acc-0' }).map((row) => row.amountCents)).toEqual([5_00, 7_00]);
    expect(both.accountSummaries.get('acc-0')).toMatchObject({ balanceCents: 12_00, transactionCount: 2 });
    expect(sameReadModels(both, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);

    await saved.save(both);
    expect(await savedPosition('transactionHistories')).toBe(6);
    const next = await open(store);
    expect(startsOf(next.saved)).toEqual(allFrom({ from: 'checkpoint', position: 6 }));
  });

  it('builds a read model added later from position 1, without a note, when the cache was written before it existed; the others resume', async () => {
    const store = await storeWith(3);
    // The files a version without CustomerPortfolio left: the other two, in today's format.
    await runNeeding(store, ['accountSummaries', 'transactionHistories']);
    await expect(stat(pathOf('customerPortfolios'))).rejects.toThrow(/ENOENT/);
    await append(store, deposit('acc-0', 5_00));

    const { saved, notices } = await open(store);
    expect(notices).toEqual([]); // no file is not a broken file: nothing to warn about
    expect(startsOf(saved)).toEqual({
      accountSummaries: { from: 'checkpoint', position: 3 },
      transactionHistories: { from: 'checkpoint', position: 3 },
      customerPortfolios: { from: 'log', why: 'no checkpoint' },
    });
    const applied: number[] = [];
    const all = needReadModels(await caughtUp(store, saved, { onApplied: (recorded) => void applied.push(recorded.globalPosition) }), ...READ_MODEL_KEYS);
    expect(applied).toEqual([1, 2, 3, 4]);
    expect(all.projector.eventsTakenIn(all.customerPortfolios)).toBe(4);
    expect(all.projector.eventsTakenIn(all.accountSummaries)).toBe(1);
    expect(all.projector.eventsTakenIn(all.transactionHistories)).toBe(1);
    expect(saved.describeStart(all)).toBe('AccountSummary and TransactionHistory loaded at position 3, caught up 1 event; no checkpoint: CustomerPortfolio replayed 4 events from position 1');
    expect(all.customerPortfolios.of('alice')).toMatchObject({ accountCount: 3, moneyInCents: 5_00 });
    expect(sameReadModels(all, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);

    await saved.save(all);
    expect(startsOf((await open(store)).saved)).toEqual(allFrom({ from: 'checkpoint', position: 4 }));
  });

  it('saves a read model only once the projector has passed the position it was loaded at', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    await append(store, deposit('acc-0', 5_00), deposit('acc-1', 6_00));
    await runNeeding(store, SUMMARIES_ONLY); // AccountSummary at 5, TransactionHistory at 3
    const summaryAt5 = await fileState('accountSummaries');

    const { saved } = await open(store);
    const partWay = await caughtUp(store, saved, { until: (recorded) => recorded.globalPosition <= 4 });
    expect(partWay.projector.position).toBe(4);
    await saved.save(partWay);
    expect(await savedPosition('transactionHistories')).toBe(4);
    expect(await fileState('accountSummaries')).toEqual(summaryAt5); // it holds more than position 4

    const { saved: later } = await open(store);
    expect(startsOf(later)).toEqual({ accountSummaries: { from: 'checkpoint', position: 5 }, transactionHistories: { from: 'checkpoint', position: 4 }, customerPortfolios: { from: 'checkpoint', position: 4 } });
    const whole = await caughtUp(store, later);
    await later.save(whole);
    expect(await savedPosition('accountSummaries')).toBe(5); // nothing new for it: not rewritten
    expect(await fileState('accountSummaries')).toEqual(summaryAt5);
    expect(await savedPosition('transactionHistories')).toBe(5);
    expect(sameReadModels(needReadModels(whole, ...READ_MODEL_KEYS), await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
  });

  it.each<[string, () => Promise<void>, RegExp]>([
    ['garbled', () => writeFile(pathOf('accountSummaries'), '{"formatVersion":2,"checkpoint":{"posi'), /is not JSON/],
    ['empty', () => writeFile(pathOf('accountSummaries'), ''), /is not JSON/],
    ['of an older format', () => rewriteSaved('accountSummaries', (saved) => ({ ...saved, formatVersion: 1 })), /format 1; this program reads format 3/],
    ['tampered with', () => rewriteSaved('accountSummaries', (saved) => ({ ...saved, snapshot: { position: 1, accounts: [{ accountId: 7 }] } })), /snapshot.accounts\[0\].accountId is not a string/],
    ['saved for another tenant', () => rewriteSaved('accountSummaries', (saved) => ({ ...saved, savedFor: { address: ADDRESS, tenantId: 'other' } })), /was saved for another server or tenant/],
    ['a copy of the other read model', async () => writeFile(pathOf('accountSummaries'), await readFile(pathOf('transactionHistories'))), /it holds TransactionHistory, not AccountSummary/],
  ])('rebuilds that read model alone, saying so in one line, when its file is %s; the other resumes', async (_, spoil, problem) => {
    const store = await storeWith(3);
    await saveOnce(store);
    await spoil();

    const { saved, notices } = await open(store);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(problem);
    expect(notices[0]).toMatch(/^note: saved AccountSummary not used: .*; rebuilding it from position 1$/);
    expect(saved.startOf('accountSummaries')?.from).toBe('log');
    expect(saved.startOf('transactionHistories')).toEqual({ from: 'checkpoint', position: 3 });
    expect(saved.resume()).toStrictEqual({ accountSummaries: undefined, transactionHistories: expect.anything(), customerPortfolios: expect.anything() });
    const replayed = needReadModels(await caughtUp(store, saved), ...READ_MODEL_KEYS);
    expect(saved.describeStart(replayed)).toMatch(/^checkpoint not used: .*: AccountSummary replayed 3 events from position 1; TransactionHistory and CustomerPortfolio loaded at position 3, caught up 0 events$/);
    expect(sameReadModels(replayed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
    await saved.save(replayed);
    expect(startsOf((await open(store)).saved)).toEqual(allFrom({ from: 'checkpoint', position: 3 }));
  });

  it('rebuilds a read model, saying so in one line, when its file cannot be read at all', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    await rm(pathOf('transactionHistories'));
    await mkdir(pathOf('transactionHistories'), { recursive: true }); // a folder where the file should be

    const { saved, notices } = await open(store);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^note: saved TransactionHistory not used: .* cannot be read \(.*\); rebuilding it from position 1$/);
    expect(saved.resume().transactionHistories).toBeUndefined();
    const replayed = await caughtUp(store, saved);
    expect(replayed.projector.eventsApplied).toBe(3);
    expect(saved.describeStart(replayed)).toMatch(/^AccountSummary and CustomerPortfolio loaded at position 3, caught up 0 events; checkpoint not used: .*: TransactionHistory replayed 3 events from position 1$/);
  });

  it.each<[string, (store: InMemoryEventStore) => Promise<InMemoryEventStore>, string]>([
    ['holds another event at the checkpoint', () => storeWith(4), 'the log holds another event at position 3'],
    ['ends before the checkpoint', () => storeWith(2), 'the log ends before position 3'],
  ])('rebuilds every read model from position 1, in one line, when the log behind the address %s', async (_, restart, reason) => {
    const before = await storeWith(3);
    await saveOnce(before);
    const after = await restart(before);

    const { saved, notices } = await open(after);
    expect(notices).toEqual([`note: saved AccountSummary, TransactionHistory and CustomerPortfolio not used: the log at ${ADDRESS} is another one (${reason}); rebuilding them from position 1`]);
    expect(saved.resume()).toStrictEqual({ accountSummaries: undefined, transactionHistories: undefined, customerPortfolios: undefined });
    const replayed = needReadModels(await caughtUp(after, saved), ...READ_MODEL_KEYS);
    expect(sameReadModels(replayed, await rebuildReadSide({ store: after, tenantId: TENANT }))).toBe(true);
  });

  it('does not fail when the store fails while the log is checked: the run replays, and meets the failure there', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    const failing = withSubscribe(store, () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('the server went away')) }),
    }));
    const notices: string[] = [];
    const saved = await SavedReadModels.open({ store: failing, tenantId: TENANT, address: ADDRESS, readModels: READ_MODEL_KEYS, fresh: false, notice: (line) => void notices.push(line), warn: () => {}, env: { XDG_CACHE_HOME: cacheHome } });
    expect(saved.resume()).toStrictEqual({ accountSummaries: undefined, transactionHistories: undefined, customerPortfolios: undefined });
    expect(notices).toEqual([`note: saved AccountSummary, TransactionHistory and CustomerPortfolio not used: the log at ${ADDRESS} could not be checked (the server went away); rebuilding them from position 1`]);
  });

  it('neither reads nor writes the files with --fresh', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    const before = await Promise.all(READ_MODEL_KEYS.map(fileState));
    await append(store, deposit('acc-0', 1_00));

    const { saved } = await open(store, { fresh: true });
    expect(startsOf(saved)).toEqual(allFrom({ from: 'log', why: 'no checkpoint read (--fresh)' }));
    const replayed = await caughtUp(store, saved);
    expect(replayed.projector.eventsApplied).toBe(4);
    await saved.save(replayed);
    expect(await Promise.all(READ_MODEL_KEYS.map(fileState))).toEqual(before);
  });

  it('writes no file for a store in this process', async () => {
    const store = await storeWith(3);
    const { saved } = await open(store, { address: undefined });
    await saved.save(await caughtUp(store, saved));
    await expect(stat(join(cacheHome, 'cqrs-bank-example'))).rejects.toThrow(/ENOENT/);
  });

  it('never fails for a file it cannot write: a warning per read model, and the run goes on', async () => {
    const store = await storeWith(3);
    await writeFile(join(cacheHome, 'blocker'), '');
    const { saved, warnings } = await open(store, { env: { XDG_CACHE_HOME: join(cacheHome, 'blocker') } });
    await expect(saved.save(await caughtUp(store, saved))).resolves.toBeUndefined();
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^warning: AccountSummary could not be saved to /);
    expect(warnings[1]).toMatch(/^warning: TransactionHistory could not be saved to /);
    expect(warnings[2]).toMatch(/^warning: CustomerPortfolio could not be saved to /);
  });

  it('saves every so often while events arrive, for shell and watch', async () => {
    const store = await storeWith(1);
    const { saved } = await open(store);
    const readSide = await caughtUp(store, saved);
    const saving = saved.saveEvery(readSide, 20);
    try {
      await append(store, deposit('acc-0', 1_00));
      await until(async () => (await savedPosition('transactionHistories').catch(() => 0)) === 2, 'a save at position 2');
      await append(store, deposit('acc-0', 2_00));
      await until(async () => (await savedPosition('transactionHistories')) === 3, 'a save at position 3');
    } finally {
      await saving.stop();
    }
    expect(await savedPosition('accountSummaries')).toBe(3);
  });

  it('after rebuild, rewrites the files from rebuilt read models that equal the live ones, and leaves them when they differ', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    for (const key of READ_MODEL_KEYS) await rewriteSaved(key, (saved) => ({ ...saved, marker: 'before rebuild' }));

    const equal = await open(store);
    const rebuilt = await rebuildReadSide({ store, tenantId: TENANT });
    expect(await equal.saved.afterRebuild(rebuilt, true)).toBe(true);
    for (const key of READ_MODEL_KEYS) expect(JSON.parse(await readFile(pathOf(key), 'utf8'))).not.toHaveProperty('marker');

    for (const key of READ_MODEL_KEYS) await rewriteSaved(key, (saved) => ({ ...saved, marker: 'suspect' }));
    await append(store, deposit('acc-0', 1_00));
    const differ = await open(store);
    const live = await caughtUp(store, differ.saved);
    expect(await differ.saved.afterRebuild(rebuilt, false)).toBe(false);
    await differ.saved.save(live);
    for (const key of READ_MODEL_KEYS) expect(JSON.parse(await readFile(pathOf(key), 'utf8'))).toMatchObject({ marker: 'suspect', checkpoint: { position: 3 } });
  });
});

// ---- fixtures -------------------------------------------------------------------------

interface OpenOptions {
  readonly readModels?: readonly ReadModelKey[];
  readonly fresh?: boolean;
  readonly address?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

async function open(store: InMemoryEventStore, options: OpenOptions = {}) {
  const notices: string[] = [];
  const warnings: string[] = [];
  const saved = await SavedReadModels.open({
    store,
    tenantId: TENANT,
    address: 'address' in options ? options.address : ADDRESS,
    readModels: options.readModels ?? READ_MODEL_KEYS,
    fresh: options.fresh ?? false,
    notice: (line) => void notices.push(line),
    warn: (line) => void warnings.push(line),
    env: options.env ?? { XDG_CACHE_HOME: cacheHome },
  });
  return { saved, notices, warnings };
}

/** The read side a run would wire from these saves, once it has taken in the log (up to `until`). */
async function caughtUp(
  store: InMemoryEventStore,
  saved: SavedReadModels,
  options: Pick<ReadSideOptions, 'until' | 'onApplied'> & { readonly readModels?: readonly ReadModelKey[] } = {},
): Promise<PartialReadSide> {
  const readSide = wireReadSide({ store, tenantId: TENANT, readModels: READ_MODEL_KEYS, ...options, resume: saved.resume() });
  opened.push(readSide);
  readSide.projector.start();
  await readSide.projector.caughtUp;
  return readSide;
}

/** A whole run that needs `readModels`: open, catch up, save, stop. */
async function runNeeding(store: InMemoryEventStore, readModels: readonly ReadModelKey[]): Promise<void> {
  const { saved, notices } = await open(store, { readModels });
  expect(notices).toEqual([]);
  await saved.save(await caughtUp(store, saved, { readModels }));
}

async function saveOnce(store: InMemoryEventStore): Promise<void> {
  await runNeeding(store, READ_MODEL_KEYS);
}

function startsOf(saved: SavedReadModels) {
  return Object.fromEntries(READ_MODEL_KEYS.map((key) => [key, saved.startOf(key)]));
}

/** Every read model started the same way. */
function allFrom(start: ReadModelStart) {
  return Object.fromEntries(READ_MODEL_KEYS.map((key) => [key, start]));
}

function pathOf(key: ReadModelKey): string {
  return checkpointFilePath({ address: ADDRESS, tenantId: TENANT, readModel: READ_MODEL_NAMES[key] }, { XDG_CACHE_HOME: cacheHome });
}

async function savedPosition(key: ReadModelKey): Promise<number> {
  return JSON.parse(await readFile(pathOf(key), 'utf8')).checkpoint.position;
}

/** What a writer would change: the file's text and its modification time. */
async function fileState(key: ReadModelKey): Promise<{ text: string; mtimeMs: number }> {
  return { text: await readFile(pathOf(key), 'utf8'), mtimeMs: (await stat(pathOf(key))).mtimeMs };
}

async function rewriteSaved(key: ReadModelKey, change: (saved: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await writeFile(pathOf(key), JSON.stringify(change(JSON.parse(await readFile(pathOf(key), 'utf8')))));
}

/** A store whose tenant log holds `accounts` openings, acc-0, acc-1, ..., at positions 1, 2, ... */
async function storeWith(accounts: number): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  stores.push(store);
  const openings = Array.from({ length: accounts }, (_, index): BankAccountCommand => ({
    type: 'OpenAccount',
    data: { accountId: `acc-${index}`, customerId: 'alice', accountType: 'Checking', initialBalanceCents: 0 },
  }));
  await append(store, ...openings);
  return store;
}

async function append(store: InMemoryEventStore, ...commands: BankAccountCommand[]): Promise<void> {
  const bank = wireBank({ store, tenantId: TENANT });
  try {
    for (const command of commands) {
      const outcome = await bank.handle(command);
      if (outcome.status !== 'accepted') throw new Error(`${command.type} was refused`);
    }
  } finally {
    await bank.stop();
  }
}

function deposit(accountId: string, amountCents: number): BankAccountCommand {
  return { type: 'DepositMoney', data: { accountId, transactionId: uuidv7(), amountCents, description: 'test' } };
}
