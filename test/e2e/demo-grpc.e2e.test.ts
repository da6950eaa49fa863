// The walkthrough in its default mode, as two terminals run it: `pnpm event-store` in one,
// `pnpm start` in the other, the app reaching its event store over gRPC.

import { describe, expect, it } from 'vitest';
import { run } from '../support/child-process.ts';
import { unusedPort } from '../event-store/grpc/loopback.ts';
import { startServerProcess } from '../support/server-process.ts';
import { expectPortfolioBuiltLater } from '../support/walkthrough-steps.ts';

describe('pnpm start against pnpm event-store', () => {
  it('runs the whole walkthrough over gRPC with the right balances and exits 0', async () => {
    const server = await startServerProcess({});
    try {
      const { address } = server;
      const result = await run('pnpm', ['start'], { env: { EVENT_STORE_ADDR: address } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(address);
      expect(result.stdout).toMatch(/Checking\s+balance\s+1300\.00 · 2 transactions · Open/);
      expect(result.stdout).toMatch(/Savings\s+balance\s+6000\.00 · 1 transaction · Open/);
      expect(result.stdout).toMatch(/Savings\s+balance\s+6000\.00 · 1 transaction · Closed/);
      expectStaleReadThenFresh(result.stdout);
      expect(result.stdout).toMatch(/append refused: expected version 3, the stream is at 4[\s\S]*→ refused: Insufficient funds: balance 300\.00, asked 500\.00/);
      expectPortfolioBuiltLater(result.stdout, 7); // a fresh server: this run's events are the whole log
      expect(result.stdout).toContain('they equal the live ones and the portfolio of step 7');
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('says how to start a server, or to use --memory, and exits 3 when nothing answers', async () => {
    const address = `127.0.0.1:${await unusedPort()}`;
    const result = await run('pnpm', ['start'], { env: { EVENT_STORE_ADDR: address }, timeoutMs: 60_000 });
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const said = result.stdout + result.stderr;
    expect(said).toContain(address);
    expect(said).toContain('pnpm event-store');
    expect(said).toContain('--memory');
    // It gave up after its own connect timeout, not after the gRPC default of minutes.
    expect(said).toContain('no answer within 3000 ms');
  });
});

/** Step 2: a query before the read side saw the last deposit, then one after waiting for it. */
function expectStaleReadThenFresh(out: string): void {
  const stale = /GetAccountSummary\(savings\): balance 5000\.00, read models at position (\d+), the log at (\d+)/.exec(out);
  expect(stale, out).not.toBeNull();
  expect(Number(stale?.[1])).toBeLessThan(Number(stale?.[2]));
  expect(out).toMatch(new RegExp(`GetAccountSummary\\(savings\\): balance 6000\\.00, read models at position ${stale?.[2]}\\b`));
}
