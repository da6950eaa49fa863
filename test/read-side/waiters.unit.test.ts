// Waiting for the read models to reach a position: every waiter is released once reached,
// each is told of a stall by its own timeout although one timer serves them all, and a
// read side that keeps moving is never a stall.
import { describe, expect, it } from 'vitest';
import { ProjectionTimeoutError, Waiters } from '../../src/read-side/waiters.ts';

describe('waiters for a position', () => {
  it('are released once the read models reach it, each by its own position', async () => {
    let position = 0;
    const waiters = new Waiters(() => position);
    const released: number[] = [];
    const first = waiters.waitFor(2, 60_000).then(() => void released.push(2));
    const second = waiters.waitFor(4, 60_000).then(() => void released.push(4));
    position = 3;
    waiters.reached(3);
    await first;
    expect(released).toEqual([2]);
    position = 4;
    waiters.reached(4);
    await second;
    expect(released).toEqual([2, 4]);
  });

  it('tell the one whose timeout passes without progress, and keep the others waiting', async () => {
    let position = 0;
    const waiters = new Waiters(() => position);
    const patient = waiters.waitFor(1, 60_000);
    await expect(waiters.waitFor(1, 30)).rejects.toThrow(ProjectionTimeoutError);
    await expect(waiters.waitFor(1, 30)).rejects.toThrow('made no progress towards position 1 for 30 ms (they are at 0)');
    position = 1;
    waiters.reached(1);
    await expect(patient).resolves.toBeUndefined();
  });

  it('are all told when the read side fails', async () => {
    const waiters = new Waiters(() => 0);
    const one = waiters.waitFor(1, 60_000);
    const other = waiters.waitFor(2, 60_000);
    waiters.failAll(new Error('the projector stopped'));
    await expect(one).rejects.toThrow('the projector stopped');
    await expect(other).rejects.toThrow('the projector stopped');
  });
});
