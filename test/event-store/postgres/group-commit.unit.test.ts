// Group commit's queueing, without a database: a lone append goes at the end of its turn,
// what arrives in that turn goes with it, what arrives meanwhile goes together next, a tenant's appends keep their order, a busy tenant waits
// apart, and a batch that fails on one append's data is retried append by append.

import { describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../../src/event-store/event-store.ts';
import { StoreUnavailableError } from '../../../src/event-store/errors.ts';
import { GroupCommit } from '../../../src/event-store/postgres/group-commit.ts';
import type { Row } from '../../../src/event-store/postgres/rows.ts';
import { account, newEvent } from '../contract.ts';

describe('GroupCommit', () => {
  it('sends a lone append at the end of its turn and what arrives meanwhile as the next batch, in order', async () => {
    const db = new FakeDatabase();
    const commit = db.groupCommit();
    const first = commit.submit(append('t-1', 'a'), SMALL);
    expect(db.sent()).toEqual([]);
    await oneTurn();
    expect(db.sent()).toEqual([['t-1/a']]);
    const later = [append('t-2', 'b'), append('t-3', 'c'), append('t-1', 'd')].map((a) => commit.submit(a, SMALL));
    await oneTurn();
    expect(db.sent()).toHaveLength(1);
    db.answer(0);
    await first;
    await until(() => db.sent().length === 2);
    expect(db.sent()[1]).toEqual(['t-2/b', 't-3/c', 't-1/d']);
    db.answer(1);
    expect((await Promise.all(later)).map((row) => row['stream'])).toEqual(['t-2/b', 't-3/c', 't-1/d']);
  });

  it('sends the appends of one turn together, and caps a batch at 256 appends', async () => {
    const db = new FakeDatabase();
    const commit = db.groupCommit();
    const all = Array.from({ length: 301 }, (_, i) => commit.submit(append(`t-${i}`, 's'), SMALL));
    await until(() => db.sent().length === 1);
    expect(db.sent()[0]).toHaveLength(256);
    db.answer(0);
    await until(() => db.sent().length === 2);
    expect(db.sent()[1]).toHaveLength(45);
    db.answer(1);
    await Promise.all(all);
  });

  it('sends a busy tenant\'s appends again in a batch of their own that waits, while the others go on', async () => {
    const db = new FakeDatabase({ busy: new Set(['t-hot']) });
    const commit = db.groupCommit();
    const hot = commit.submit(append('t-hot', 'h'), SMALL);
    const calm = commit.submit(append('t-calm', 'c'), SMALL);
    await until(() => db.sent().length === 1);
    db.answer(0);
    expect((await calm)['stream']).toBe('t-calm/c');
    await until(() => db.sent().length === 2);
    expect(db.waits()).toEqual([false, true]);
    expect(db.sent()[1]).toEqual(['t-hot/h']);
    // While the hot tenant's batch waits for its lock, the others' appends go on.
    const later = commit.submit(append('t-calm', 'd'), SMALL);
    await until(() => db.sent().length === 3);
    expect(db.waits()[2]).toBe(false);
    db.answer(2);
    expect((await later)['stream']).toBe('t-calm/d');
    db.answer(1);
    expect((await hot)['stream']).toBe('t-hot/h');
  });

  it('retries a batch that failed on data append by append, so only that append fails', async () => {
    const db = new FakeDatabase({ refuse: 't-2/bad' });
    const commit = db.groupCommit();
    const first = commit.submit(append('t-1', 'a'), SMALL);
    await until(() => db.sent().length === 1);
    const rest = [append('t-1', 'b'), append('t-2', 'bad'), append('t-3', 'c')].map((a) => commit.submit(a, SMALL).catch((e: unknown) => e));
    db.answer(0);
    await first;
    for (let i = 1; i <= 4; i++) {
      await until(() => db.sent().length > i);
      db.answer(i);
    }
    const [b, bad, c] = await Promise.all(rest);
    expect(db.sent().slice(1)).toEqual([['t-1/b', 't-2/bad', 't-3/c'], ['t-1/b'], ['t-2/bad'], ['t-3/c']]);
    expect(b).toMatchObject({ stream: 't-1/b' });
    expect(bad).toBeInstanceOf(TypeError);
    expect(c).toMatchObject({ stream: 't-3/c' });
  });

  it('answers every append of a batch that lost its connection with that, not one by one', async () => {
    const db = new FakeDatabase({ unavailable: true });
    const commit = db.groupCommit();
    const all = [append('t-1', 'a'), append('t-2', 'b')].map((a) => commit.submit(a, SMALL).catch((e: unknown) => e));
    await until(() => db.sent().length === 1);
    db.answer(0);
    for (const outcome of await Promise.all(all)) expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect(db.sent()).toEqual([['t-1/a', 't-2/b']]);
  });
});

// ---- fixtures -------------------------------------------------------------------------

/** What a small append weighs: far below a batch's byte cap. */
const SMALL = 1_000;

/** Batches the test answers one by one; each append's row names its stream. */
class FakeDatabase {
  private readonly batches: Array<{ appends: readonly AppendRequest[]; wait: boolean; answer: () => void }> = [];

  constructor(private readonly behaviour: { busy?: Set<string>; refuse?: string; unavailable?: boolean } = {}) {}

  groupCommit(): GroupCommit {
    return new GroupCommit({
      run: (appends, { wait }) =>
        new Promise<Row[]>((resolve, reject) => {
          const answer = (): void => {
            const names = appends.map((a) => `${a.tenantId}/${a.stream.aggregateId}`);
            if (this.behaviour.unavailable === true) return reject(new StoreUnavailableError('connection lost'));
            if (names.includes(this.behaviour.refuse ?? '')) return reject(new TypeError('a value the database refused'));
            resolve(names.map((stream, i) => ({
              append_index: String(i + 1),
              outcome: !wait && this.behaviour.busy?.has(appends[i]!.tenantId) === true ? 'busy' : 'appended',
              last_global_position: '1',
              stream,
            })));
          };
          this.batches.push({ appends, wait, answer });
        }),
      failure: (error) => (error instanceof Error ? error : new Error(String(error))),
      committed: () => undefined,
      batchesInFlight: 1,
      waitingBatchesInFlight: 1,
    });
  }

  sent(): string[][] {
    return this.batches.map((batch) => batch.appends.map((a) => `${a.tenantId}/${a.stream.aggregateId}`));
  }

  waits(): boolean[] {
    return this.batches.map((batch) => batch.wait);
  }

  answer(index: number): void {
    this.batches[index]?.answer();
  }
}

function append(tenantId: string, aggregateId: string): AppendRequest {
  return { tenantId, stream: account(aggregateId), expectedVersion: 0, events: [newEvent()] };
}

function oneTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lets the event loop turn (no clock involved) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition(); turns++) {
    if (turns > 1000) throw new Error('the condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
