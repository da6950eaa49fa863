// The CLI's checkpoint layer: a run resumes from what the last run saved and reads only the
// newer events; a save it cannot use (unreadable, garbled, of an older format, of another
// log) is said in one line and the log is replayed from position 1; saving never fails.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { checkpointFilePath } from '../../src/cli/checkpoint-file.ts';
import { SavedReadModels } from '../../src/cli/saved-read-models.ts';
import type { BankAccountCommand } from '../../src/domain/bank-account.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { rebuildReadSide, sameReadModels, wireBank, wireReadSide } from '../../src/wire.ts';
import type { ReadSide } from '../../src/wire.ts';
import { withSubscribe } from '../support/stores.ts';
import { until } from '../support/until.ts';

const ADDRESS = '127.0.0.1:50051';
const TENANT = 'tenant-1';

let cacheHome = '';
let path = '';
const opened: ReadSide[] = [];
const stores: InMemoryEventStore[] = [];
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'saved-read-models-'));
  path = checkpointFilePath({ address: ADDRESS, tenantId: TENANT }, { XDG_CACHE_HOME: cacheHome });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((readSide) => readSide.projector.stop()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await rm(cacheHome, { recursive: true, force: true });
});

describe('a run against a server', () => {
  it('replays the log when nothing is saved, saves, and the next run reads only the newer events', async () => {
    const store = await storeWith(3);
    const first = await open(store);
    expect(first.saved.start).toEqual({ from: 'log', why: 'no checkpoint' });
    expect(first.saved.resume()).toBeUndefined();
    const replayed = await caughtUp(store, first.saved);
    expect(first.saved.describeStart(replayed.projector.eventsApplied)).toBe('no checkpoint: replayed 3 events from position 1');
    await first.saved.save(replayed);
    expect(await savedPosition()).toBe(3);

    await append(store, deposit('acc-0', 5_00), deposit('acc-1', 6_00));
    const second = await open(store);
    expect(second.saved.start).toEqual({ from: 'checkpoint', position: 3 });
    const resumed = await caughtUp(store, second.saved);
    expect(resumed.projector.eventsApplied).toBe(2);
    expect(second.saved.describeStart(resumed.projector.eventsApplied)).toBe('read models loaded at position 3, caught up 2 events');
    expect(resumed.accountSummaries.get('acc-1')?.balanceCents).toBe(6_00);
    expect(sameReadModels(resumed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
    expect([...first.notices, ...second.notices, ...first.warnings, ...second.warnings]).toEqual([]);
  });

  it.each<[string, () => Promise<void>, RegExp]>([
    ['garbled', () => writeFile(path, '{"formatVersion":1,"checkpoint":{"posi'), /is not JSON/],
    ['empty', () => writeFile(path, ''), /is not JSON/],
    ['of an older format', () => rewriteSaved((saved) => ({ ...saved, formatVersion: 0 })), /format 0; this program reads format 1/],
    ['tampered with', () => rewriteSaved((saved) => ({ ...saved, accountSummary: { position: 1, accounts: [{ accountId: 7 }] } })), /accountSummary.accounts\[0\].accountId is not a string/],
    ['saved for another tenant', () => rewriteSaved((saved) => ({ ...saved, savedFor: { address: ADDRESS, tenantId: 'other' } })), /was saved for another server or tenant/],
  ])('replays the log, saying so in one line, when the saved file is %s', async (_, spoil, problem) => {
    const store = await storeWith(3);
    await saveOnce(store);
    await spoil();

    const { saved, notices } = await open(store);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(problem);
    expect(notices[0]).toMatch(/^note: saved read models not used: .*; rebuilding them from position 1$/);
    expect(saved.start.from).toBe('log');
    expect(saved.resume()).toBeUndefined();
    const replayed = await caughtUp(store, saved);
    expect(saved.describeStart(replayed.projector.eventsApplied)).toMatch(/^checkpoint not used: .*: replayed 3 events from position 1$/);
    expect(sameReadModels(replayed, await rebuildReadSide({ store, tenantId: TENANT }))).toBe(true);
    await saved.save(replayed);
    expect((await open(store)).saved.start).toEqual({ from: 'checkpoint', position: 3 });
  });

  it('replays the log, saying so in one line, when the saved file cannot be read at all', async () => {
    const store = await storeWith(3);
    await mkdir(path, { recursive: true }); // a folder where the file should be

    const { saved, notices } = await open(store);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^note: saved read models not used: .* cannot be read \(.*\); rebuilding them from position 1$/);
    expect(saved.resume()).toBeUndefined();
    expect((await caughtUp(store, saved)).projector.eventsApplied).toBe(3);
  });

  it.each<[string, (store: InMemoryEventStore) => Promise<InMemoryEventStore>, string]>([
    ['holds another event at the checkpoint', () => storeWith(4), 'the log holds another event at position 3'],
    ['ends before the checkpoint', () => storeWith(2), 'the log ends before position 3'],
  ])('replays the log from position 1 when the log behind the address %s', async (_, restart, reason) => {
    const before = await storeWith(3);
    await saveOnce(before);
    const after = await restart(before);

    const { saved, notices } = await open(after);
    expect(notices).toEqual([`note: saved read models not used: they are of another log than the one at ${ADDRESS} (${reason}); rebuilding them from position 1`]);
    expect(saved.resume()).toBeUndefined();
    const replayed = await caughtUp(after, saved);
    expect(sameReadModels(replayed, await rebuildReadSide({ store: after, tenantId: TENANT }))).toBe(true);
  });

  it('does not fail when the store fails while the log is checked: the run replays, and meets the failure there', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    const failing = withSubscribe(store, () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('the server went away')) }),
    }));
    const notices: string[] = [];
    const saved = await SavedReadModels.open({ store: failing, tenantId: TENANT, address: ADDRESS, fresh: false, notice: (line) => void notices.push(line), warn: () => {}, env: { XDG_CACHE_HOME: cacheHome } });
    expect(saved.resume()).toBeUndefined();
    expect(notices).toEqual([`note: saved read models not used: the log at ${ADDRESS} could not be checked (the server went away); rebuilding them from position 1`]);
  });

  it('neither reads nor writes the file with --fresh', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    const before = await readFile(path, 'utf8');
    await append(store, deposit('acc-0', 1_00));

    const { saved } = await open(store, { fresh: true });
    expect(saved.start).toEqual({ from: 'log', why: 'no checkpoint read (--fresh)' });
    const replayed = await caughtUp(store, saved);
    expect(replayed.projector.eventsApplied).toBe(4);
    await saved.save(replayed);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('writes no file for a store in this process', async () => {
    const store = await storeWith(3);
    const { saved } = await open(store, { address: undefined });
    await saved.save(await caughtUp(store, saved));
    await expect(stat(join(cacheHome, 'cqrs-bank-example'))).rejects.toThrow(/ENOENT/);
  });

  it('never fails for a file it cannot write: a warning, and the run goes on', async () => {
    const store = await storeWith(3);
    await writeFile(join(cacheHome, 'blocker'), '');
    const { saved, warnings } = await open(store, { env: { XDG_CACHE_HOME: join(cacheHome, 'blocker') } });
    await expect(saved.save(await caughtUp(store, saved))).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: the read models could not be saved to /);
  });

  it('saves every so often while events arrive, for shell and watch', async () => {
    const store = await storeWith(1);
    const { saved } = await open(store);
    const readSide = await caughtUp(store, saved);
    const saving = saved.saveEvery(readSide, 20);
    try {
      await append(store, deposit('acc-0', 1_00));
      await until(async () => (await savedPosition().catch(() => 0)) === 2, 'a save at position 2');
      await append(store, deposit('acc-0', 2_00));
      await until(async () => (await savedPosition()) === 3, 'a save at position 3');
    } finally {
      await saving.stop();
    }
  });

  it('after rebuild, rewrites the file from rebuilt read models that equal the live ones, and leaves it when they differ', async () => {
    const store = await storeWith(3);
    await saveOnce(store);
    await rewriteSaved((saved) => ({ ...saved, marker: 'before rebuild' }));

    const equal = await open(store);
    const rebuilt = await rebuildReadSide({ store, tenantId: TENANT });
    expect(await equal.saved.afterRebuild(rebuilt, true)).toBe(true);
    expect(JSON.parse(await readFile(path, 'utf8'))).not.toHaveProperty('marker');

    await rewriteSaved((saved) => ({ ...saved, marker: 'suspect' }));
    await append(store, deposit('acc-0', 1_00));
    const differ = await open(store);
    const live = await caughtUp(store, differ.saved);
    expect(await differ.saved.afterRebuild(rebuilt, false)).toBe(false);
    await differ.saved.save(live);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ marker: 'suspect', checkpoint: { position: 3 } });
  });
});

// ---- fixtures -------------------------------------------------------------------------

async function open(store: InMemoryEventStore, options: { fresh?: boolean; address?: string | undefined; env?: NodeJS.ProcessEnv } = {}) {
  const notices: string[] = [];
  const warnings: string[] = [];
  const saved = await SavedReadModels.open({
    store,
    tenantId: TENANT,
    address: 'address' in options ? options.address : ADDRESS,
    fresh: options.fresh ?? false,
    notice: (line) => void notices.push(line),
    warn: (line) => void warnings.push(line),
    env: options.env ?? { XDG_CACHE_HOME: cacheHome },
  });
  return { saved, notices, warnings };
}

/** The read side a run would wire from this save, once it has taken in the whole log. */
async function caughtUp(store: InMemoryEventStore, saved: SavedReadModels): Promise<ReadSide> {
  const readSide = wireReadSide({ store, tenantId: TENANT, resume: saved.resume() });
  opened.push(readSide);
  readSide.projector.start();
  await readSide.projector.caughtUp;
  return readSide;
}

async function saveOnce(store: InMemoryEventStore): Promise<void> {
  const { saved } = await open(store);
  await saved.save(await caughtUp(store, saved));
}

async function savedPosition(): Promise<number> {
  return JSON.parse(await readFile(path, 'utf8')).checkpoint.position;
}

async function rewriteSaved(change: (saved: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await writeFile(path, JSON.stringify(change(JSON.parse(await readFile(path, 'utf8')))));
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
