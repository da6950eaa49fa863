// The notifications other server processes hear after a commit: one statement at a time,
// the commits made while one is on its way folded into the next, each tenant once.

import { expect, it } from 'vitest';
import { CommitNotifier } from '../../../src/event-store/postgres/commit-notifier.ts';

it('sends at once, then folds what committed meanwhile into one more statement, each tenant at its last position', async () => {
  const sent: string[][] = [];
  let finishFirst: () => void = () => undefined;
  const notifier = new CommitNotifier(async (payloads) => {
    sent.push([...payloads]);
    if (sent.length === 1) await new Promise<void>((resolve) => (finishFirst = resolve));
  });
  notifier.committed(new Map([['t-1', 5]]));
  notifier.committed(new Map([['t-1', 7], ['t-2', 6]]));
  notifier.committed(new Map([['t-2', 9]]));
  expect(sent).toEqual([['5 t-1']]);
  finishFirst();
  await new Promise((resolve) => setImmediate(resolve));
  expect(sent).toEqual([['5 t-1'], ['7 t-1', '9 t-2']]);
});

it('leaves a tenant id too long for a payload out, so that every subscriber wakes', async () => {
  const sent: string[][] = [];
  const notifier = new CommitNotifier(async (payloads) => {
    sent.push([...payloads]);
  });
  notifier.committed(new Map([['x'.repeat(1001), 3]]));
  expect(sent).toEqual([['3 ']]);
});
