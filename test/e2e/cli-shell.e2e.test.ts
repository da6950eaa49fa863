// The shell as a person drives it, on a pseudo-terminal: Ctrl-C clears the line, interrupts
// a command without ending the session (so a --memory store survives it), and a second
// Ctrl-C on an empty line or Ctrl-D leaves with exit 0. Its help offers only what it takes.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { accountStream, encode } from '../../src/domain/bank-account-codec.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { killGroup, PROJECT_ROOT } from '../support/child-process.ts';
import { hasScript, onTerminal } from '../support/pseudo-terminal.ts';
import type { Terminal } from '../support/pseudo-terminal.ts';
import { withSubscribe } from '../support/stores.ts';
import { until } from '../support/until.ts';
import { serveOnLoopback } from '../event-store/grpc/loopback.ts';

/** One shell started (tsx compiling on a busy machine) and a dozen lines typed at it. */
const SHELL_TEST_TIMEOUT_MS = 90_000;
const CLI = [process.execPath, '--import', 'tsx', 'src/main.ts'];
const HOW_TO_LEAVE = '(To leave, press Ctrl-C again or Ctrl-D, or type exit)';

let terminal: Terminal | undefined;
afterEach(() => terminal?.kill());

describe.skipIf(!hasScript)('the shell on a terminal', () => {
  it('clears the line on Ctrl-C, keeps the --memory store, and leaves on a second Ctrl-C', async () => {
    const shell = (terminal = onTerminal([...CLI, '--memory', 'shell']));
    await shell.expect('bank> ');
    shell.type('open --customer dana --type Savings --initial 50 --id acc-s\r');
    await shell.expect('acc-s: balance 50.00 · Open');
    await shell.expect('bank> ');

    shell.type('withdraw acc-s 10');
    await shell.expect('withdraw acc-s 10');
    shell.type('\x03');
    await shell.expect('withdraw acc-s 10^C');
    await shell.expect('bank> ');
    shell.type('\x03'); // now on an empty line: says how to leave, and stays
    await shell.expect(HOW_TO_LEAVE);
    await shell.expect('bank> ');

    shell.type('summary acc-s\r');
    await shell.expect(/balance\s+50\.00/); // the store is kept, and the cleared withdrawal never ran
    await shell.expect('bank> ');

    shell.type('help deposit\r');
    await shell.expect('Usage: deposit ACCOUNT AMOUNT');
    await shell.expect('bank> ');
    const help = shell.screen().slice(shell.screen().lastIndexOf('Usage: deposit'));
    for (const chosenAtStart of ['--memory', '--addr', '--tenant', '--fresh', 'pnpm start']) expect(help).not.toContain(chosenAtStart);

    shell.type('\x03');
    await shell.expect(HOW_TO_LEAVE);
    shell.type('\x03');
    expect(await shell.exited).toBe(0);
  }, SHELL_TEST_TIMEOUT_MS);

  it('interrupts a command that hangs on Ctrl-C, shows nothing more of it, and carries on', async () => {
    const memory = new InMemoryEventStore();
    const tenant = `cli-shell-${randomUUID()}`;
    await memory.append({ tenantId: tenant, stream: accountStream('acc-1'), expectedVersion: 0, events: [opened('acc-1')] });
    // Every append is held until the test lets it through, as a server stuck mid-write.
    let appendsArrived = 0;
    let letThrough = (): void => {};
    const gate = new Promise<void>((resolve) => (letThrough = resolve));
    const backend: EventStore = {
      ...withSubscribe(memory, (request) => memory.subscribe(request)),
      append: async (request) => {
        appendsArrived++;
        await gate;
        return memory.append(request);
      },
    };
    const server = await serveOnLoopback(backend);
    try {
      const shell = (terminal = onTerminal([...CLI, '--addr', server.address, '--tenant', tenant, 'shell']));
      await shell.expect('bank> ');
      shell.type('deposit acc-1 5\r');
      await until(() => appendsArrived > 0, 'the deposit to reach the store');
      shell.type('\x03');
      await shell.expect('interrupted: deposit. An append is all or nothing');
      await shell.expect('(exit code 130)');
      await shell.expect('bank> ');

      shell.type('summary acc-1\r');
      await shell.expect(/balance\s+10\.00/);
      await shell.expect('bank> ');

      // Let the held append through: the interrupted deposit is recorded whole, unseen.
      letThrough();
      await until(async () => (await readWholeStream(memory, { tenantId: tenant, aggregateId: 'acc-1' })).length === 2, 'the held deposit to be recorded');
      shell.type('\x04');
      expect(await shell.exited).toBe(0);
      const afterInterrupt = shell.screen().slice(shell.screen().indexOf('interrupted: deposit'));
      expect(afterInterrupt).not.toContain('MoneyDeposited');
      expect(afterInterrupt).not.toContain('warning');
    } finally {
      letThrough();
      terminal?.kill();
      await server.stop();
      await memory.close();
    }
  }, SHELL_TEST_TIMEOUT_MS);
});

describe('the shell on a pipe', () => {
  it('takes a SIGINT at the prompt as Ctrl-C: one says how to leave and stays, a second in a row leaves with 0', async () => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), '--memory', 'shell'], { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const shown = (text: string, times = 1) => until(() => output.split(text).length > times, () => output, 30_000);
      await shown('Event store: in memory');
      child.kill('SIGINT');
      await shown(HOW_TO_LEAVE);
      child.stdin.write('open --customer erin --type Checking --initial 5 --id acc-p\n');
      await shown('acc-p: balance 5.00 · Open'); // still there, with its store
      child.kill('SIGINT');
      await shown(HOW_TO_LEAVE, 2);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      killGroup(child.pid);
    }
  }, SHELL_TEST_TIMEOUT_MS);
});

function opened(accountId: string) {
  return { ...encode({ type: 'AccountOpened', data: { accountId, customerId: 'erin', accountType: 'Checking', initialBalanceCents: 1000 } }), eventId: uuidv7() };
}
