// The read models' checkpoints at the command line: each run against a server saves the read
// models its command needs, each in its own file, and the next one loads them and catches up
// only the events since; `summary` leaves TransactionHistory's file alone and a later
// `history` catches it up from its own checkpoint; a restarted memory server is noticed and
// the log replayed; --fresh, rebuild and --memory as promised.
// Every test has a cache folder of its own, so runs never meet, nor touch ~/.cache.

import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../support/child-process.ts';
import type { Finished } from '../support/child-process.ts';
import { startServerProcess, stopAll } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/** Several CLI runs, each starting tsx: slow on a loaded machine. */
const TIMEOUT_MS = 120_000;

const servers = new Set<ServerProcess>();
let shared: ServerProcess | undefined;
let cacheHome = '';

beforeAll(async () => {
  shared = await started({ BACKEND: 'memory' });
});
afterAll(async () => {
  await stopAll(servers);
});
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'cli-checkpoint-'));
});
afterEach(async () => {
  await rm(cacheHome, { recursive: true, force: true });
});

describe('read models that resume from a checkpoint', () => {
  it('a second run loads the saved read models and catches up only the events since', async () => {
    const { address } = server();
    const tenant = newTenant();
    const opened = await cli(address, tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100', '--id', 'acc-1');
    expect(opened.code, opened.stderr).toBe(0);
    const savedAt = logPosition(opened);
    // --fresh runs save nothing, so the checkpoint stays at the opening.
    await expectDone(cli(address, tenant, '--fresh', 'deposit', 'acc-1', '5'));
    const last = logPosition(await expectDone(cli(address, tenant, '--fresh', 'deposit', 'acc-1', '6')));

    const resumed = await expectDone(cli(address, tenant, '--trace', 'summary', 'acc-1'));
    expect(resumed.stdout).toContain(`AccountSummary loaded at position ${savedAt}, caught up 2 events`);
    expect(resumed.stdout).toMatch(/balance\s+111\.00/);
    expect(resumed.stdout).toMatch(/transactions\s+2/);
    expect(resumed.stdout).toContain(`(read model at position ${last})`);
    expect(resumed.stderr).toBe('');

    // Only now does a run need TransactionHistory: it has no file yet, so it is replayed.
    const again = await expectDone(cli(address, tenant, '--trace', 'history', 'acc-1', '--json'));
    expect(again.stderr).toContain(`AccountSummary loaded at position ${last}, caught up 0 events; no checkpoint: TransactionHistory replayed 3 events from position 1`);
    expect(JSON.parse(again.stdout).transactions.map((t: { amount: string }) => t.amount)).toEqual(['5.00', '6.00']);

    const folder = join(cacheHome, 'cqrs-bank-example');
    const files = (await readdir(folder)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^read-models-[0-9a-f]{32}-AccountSummary\.json$/);
    expect(files[1]).toBe(files[0]!.replace('AccountSummary', 'TransactionHistory'));
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    for (const file of files) expect((await stat(join(folder, file))).mode & 0o777).toBe(0o600);
  }, TIMEOUT_MS);

  it('summary leaves TransactionHistory\'s file as it was, and a later history catches it up from its own checkpoint', async () => {
    const { address } = server();
    const tenant = newTenant();
    await expectDone(cli(address, tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100', '--id', 'acc-1'));
    const first = logPosition(await expectDone(cli(address, tenant, 'deposit', 'acc-1', '5')));
    await expectDone(cli(address, tenant, 'history', 'acc-1')); // both read models saved at the first deposit
    const history = await savedFile('TransactionHistory');
    const historyThen = { text: await readFile(history, 'utf8'), mtimeMs: (await stat(history)).mtimeMs };
    expect(JSON.parse(historyThen.text).checkpoint.position).toBe(first);

    const second = logPosition(await expectDone(cli(address, tenant, 'deposit', 'acc-1', '6')));
    const summary = await expectDone(cli(address, tenant, '--trace', 'summary', 'acc-1'));
    expect(summary.stdout).toMatch(/balance\s+111\.00/);
    expect(summary.stdout).toContain(`AccountSummary loaded at position ${second}, caught up 0 events`);
    expect(summary.stdout).not.toContain('TransactionHistory');
    expect(JSON.parse(await readFile(await savedFile('AccountSummary'), 'utf8')).checkpoint.position).toBe(second);
    expect({ text: await readFile(history, 'utf8'), mtimeMs: (await stat(history)).mtimeMs }).toEqual(historyThen);

    const later = await expectDone(cli(address, tenant, '--trace', 'history', 'acc-1', '--json'));
    expect(later.stderr).toContain(`AccountSummary loaded at position ${second}, caught up 0 events; TransactionHistory loaded at position ${first}, caught up 1 event`);
    expect(JSON.parse(later.stdout).transactions.map((t: { amount: string; balanceAfter: string }) => [t.amount, t.balanceAfter])).toEqual([['5.00', '105.00'], ['6.00', '111.00']]);
    expect(JSON.parse(await readFile(history, 'utf8')).checkpoint.position).toBe(second);
  }, TIMEOUT_MS);

  it('notices a memory server restarted on the same port, says so in one line, and answers from the new log', async () => {
    const tenant = newTenant();
    const first = await started({ BACKEND: 'memory' });
    await expectDone(cli(first.address, tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100', '--id', 'acc-1'));
    await expectDone(cli(first.address, tenant, 'deposit', 'acc-1', '5')); // saved at position 2
    await first.stop('SIGKILL');
    servers.delete(first);

    const restarted = await started({ BACKEND: 'memory' }, first.port);
    // Three events in the new log, none of them saving, so position 2 holds another event.
    await expectDone(cli(restarted.address, tenant, '--fresh', 'open', '--customer', 'bob', '--type', 'Savings', '--initial', '10', '--id', 'acc-9'));
    await expectDone(cli(restarted.address, tenant, '--fresh', 'deposit', 'acc-9', '1'));
    await expectDone(cli(restarted.address, tenant, '--fresh', 'deposit', 'acc-9', '2'));

    const summary = await expectDone(cli(restarted.address, tenant, 'summary', 'acc-9'));
    expect(summary.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^note: saved AccountSummary not used: .*another event at position 2.*; rebuilding it from position 1$/),
    ]);
    expect(summary.stdout).toMatch(/balance\s+13\.00/);
    expect((await cli(restarted.address, tenant, 'summary', 'acc-1')).code).toBe(2); // only in the old log

    const next = await expectDone(cli(restarted.address, tenant, '--trace', 'summary', 'acc-9'));
    expect(next.stderr).toBe('');
    expect(next.stdout).toContain('AccountSummary loaded at position 3, caught up 0 events');
  }, TIMEOUT_MS);

  it('--fresh neither reads nor writes the saved read models', async () => {
    const { address } = server();
    const tenant = newTenant();
    await expectDone(cli(address, tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100', '--id', 'acc-1'));
    const [file] = await savedFiles();
    await writeFile(file!, 'garbage');

    const fresh = await expectDone(cli(address, tenant, '--fresh', '--trace', 'summary', 'acc-1'));
    expect(fresh.stdout).toContain('no checkpoint read (--fresh): AccountSummary replayed 1 event from position 1');
    expect(fresh.stderr).toBe(''); // the garbage was never read
    expect(await readFile(file!, 'utf8')).toBe('garbage'); // nor replaced

    const plain = await expectDone(cli(address, tenant, 'summary', 'acc-1'));
    expect(plain.stderr).toMatch(/^note: saved AccountSummary not used: .* is not JSON; rebuilding it from position 1\n$/);
    expect(JSON.parse(await readFile(file!, 'utf8'))).toMatchObject({ formatVersion: 3, readModel: 'AccountSummary' });
  }, TIMEOUT_MS);

  it('rebuild saves every rebuilt read model with the new checkpoint', async () => {
    const { address } = server();
    const tenant = newTenant();
    await expectDone(cli(address, tenant, 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '100', '--id', 'acc-1'));
    await expectDone(cli(address, tenant, '--fresh', 'deposit', 'acc-1', '5'));
    const file = await savedFile('AccountSummary');
    const before = JSON.parse(await readFile(file, 'utf8'));

    const rebuilt = await expectDone(cli(address, tenant, 'rebuild', '--json'));
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ events: 2, readModels: ['AccountSummary', 'TransactionHistory', 'CustomerPortfolio'], equal: true, saved: true });
    const head: unknown = JSON.parse(rebuilt.stdout).position;
    const after = JSON.parse(await readFile(file, 'utf8'));
    expect(before.checkpoint.position).toBeLessThan(after.checkpoint.position);
    expect(after.checkpoint.position).toBe(head);
    expect(JSON.parse(await readFile(await savedFile('TransactionHistory'), 'utf8')).checkpoint.position).toBe(head);
    expect(JSON.parse(await readFile(await savedFile('CustomerPortfolio'), 'utf8')).checkpoint.position).toBe(head);

    const next = await expectDone(cli(address, tenant, '--trace', 'summary', 'acc-1'));
    expect(next.stdout).toContain(`AccountSummary loaded at position ${String(head)}, caught up 0 events`);
  }, TIMEOUT_MS);

  it('a cache written before CustomerPortfolio existed: it alone is built from position 1, the other two resume', async () => {
    const { address } = server();
    const tenant = newTenant();
    await expectDone(cli(address, tenant, 'open', '--customer', 'erin', '--type', 'Checking', '--initial', '100', '--id', 'acc-e'));
    const last = logPosition(await expectDone(cli(address, tenant, 'deposit', 'acc-e', '5')));
    // `history` saves exactly the files an older version, without CustomerPortfolio, saved.
    await expectDone(cli(address, tenant, 'history', 'acc-e'));
    expect((await savedFiles()).map((file) => file.replace(/^.*-/, '')).sort()).toEqual(['AccountSummary.json', 'TransactionHistory.json']);

    // The shell follows every read model; its first traced line says where each started.
    // (Positions are global to the server, which other tests write to: this tenant holds 2 events.)
    const shell = await expectDone(cli(address, tenant, '--trace', 'shell', { input: 'portfolio erin --json\nexit\n' }));
    expect(shell.stdout).toContain(`AccountSummary and TransactionHistory loaded at position ${last}, caught up 0 events; no checkpoint: CustomerPortfolio replayed 2 events from position 1`);
    expect(shell.stdout).toContain('"moneyIn": "105.00"');
    expect(shell.stderr).toBe(''); // a missing file is no broken one: nothing to note
    expect(JSON.parse(await readFile(await savedFile('CustomerPortfolio'), 'utf8')).checkpoint.position).toBe(last);
  }, TIMEOUT_MS);

  it('shell saves the read models when it ends', async () => {
    const { address } = server();
    const tenant = newTenant();
    const input = ['open --customer dana --type Savings --initial 50 --id acc-s', 'deposit acc-s 5', 'exit'].join('\n');
    const shell = await expectDone(cli(address, tenant, 'shell', { input }));
    const last = logPosition(shell);

    const next = await expectDone(cli(address, tenant, '--trace', 'history', 'acc-s'));
    expect(next.stdout).toContain(`AccountSummary and TransactionHistory loaded at position ${last}, caught up 0 events`);
  }, TIMEOUT_MS);

  it('--memory writes no file', async () => {
    await expectDone(cliWith(['--memory', 'open', '--customer', 'alice', '--type', 'Checking', '--initial', '1']));
    await expectDone(cliWith(['--memory', 'shell'], { input: 'open --customer bob --type Checking --initial 2\nexit\n' }));
    expect(await readdir(cacheHome)).toEqual([]);
  }, TIMEOUT_MS);
});

// ---- fixtures -------------------------------------------------------------------------

async function started(env: Record<string, string>, port?: number): Promise<ServerProcess> {
  const serverProcess = await startServerProcess(env, port);
  servers.add(serverProcess);
  return serverProcess;
}

function server(): ServerProcess {
  if (shared === undefined) throw new Error('the server did not start');
  return shared;
}

function newTenant(): string {
  return `checkpoint-${randomUUID()}`;
}

function cli(address: string, tenant: string, ...args: Array<string | { input: string }>): Promise<Finished> {
  const words = args.filter((arg): arg is string => typeof arg === 'string');
  const input = args.find((arg): arg is { input: string } => typeof arg !== 'string');
  return cliWith(['--addr', address, '--tenant', tenant, ...words], input);
}

function cliWith(args: string[], options: { input?: string } = {}): Promise<Finished> {
  return run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { XDG_CACHE_HOME: cacheHome }, timeoutMs: 60_000, ...options });
}

async function expectDone(running: Promise<Finished>): Promise<Finished> {
  const result = await running;
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

/** The log position a write command reported last. */
function logPosition(result: Finished): number {
  const positions = [...result.stdout.matchAll(/log position (\d+)\)/g)].map((match) => Number(match[1]));
  const last = positions.at(-1);
  if (last === undefined) throw new Error(`no log position in:\n${result.stdout}`);
  return last;
}

async function savedFiles(): Promise<string[]> {
  const folder = join(cacheHome, 'cqrs-bank-example');
  return (await readdir(folder)).map((name) => join(folder, name));
}

/** The one saved file of a read model (each test has a tenant and a cache folder of its own). */
async function savedFile(readModel: string): Promise<string> {
  const files = (await savedFiles()).filter((file) => file.endsWith(`-${readModel}.json`));
  if (files.length !== 1) throw new Error(`${files.length} files of ${readModel}`);
  return files[0]!;
}
