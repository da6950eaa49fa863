// Ctrl-C on a line of the shell ends that command's work, not only its output: a replay
// (`rebuild`, `--as-of`) or a read of the whole log (`events`) stops reading the log.

import { describe, expect, it } from 'vitest';
import type { EventStore, SubscriptionMessage } from '../../src/event-store/event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { runEvents } from '../../src/cli/event-log.ts';
import { runReadCommand } from '../../src/cli/read-commands.ts';
import { runRebuild } from '../../src/cli/rebuild.ts';
import { SavedReadModels } from '../../src/cli/saved-read-models.ts';
import type { CliContext } from '../../src/cli/cli-context.ts';
import type { Output } from '../../src/cli/terminal.ts';
import { Tracer } from '../../src/cli/trace.ts';
import { wireBank } from '../../src/wire.ts';
import { withSubscribe } from '../support/stores.ts';
import { until } from '../support/until.ts';

const TENANT = 'tenant-1';
const LOG_LENGTH = 2_000;
/** Events a replay may still take after the interrupt: what was already on its way. */
const SLACK = 50;

/** A log of LOG_LENGTH events: one account opened, then deposits. */
async function filledStore(): Promise<InMemoryEventStore> {
  const store = new InMemoryEventStore();
  const bank = wireBank({ store, tenantId: TENANT, readModels: [] });
  await bank.handle({ type: 'OpenAccount', data: { accountId: 'acc-1', customerId: 'alice', accountType: 'Checking', initialBalanceCents: 0 } });
  for (let i = 1; i < LOG_LENGTH; i++) {
    await bank.handle({ type: 'DepositMoney', data: { accountId: 'acc-1', amountCents: 100, description: '', transactionId: `t-${i}` } });
  }
  return store;
}

/**
 * The store, counting what its subscriptions hand out after the interrupt. The interrupt
 * comes once the second subscription (the command's own read; the first feeds the live
 * read models) has handed out `interruptAfter` messages.
 */
function interruptedPartWay(store: EventStore, interrupt: AbortController, interruptAfter: number): { store: EventStore; afterInterrupt: () => number; commandsReadEnded: () => boolean } {
  let afterInterrupt = 0;
  let subscriptions = 0;
  let commandsReadEnded = false;
  const counting = withSubscribe(store, async function* (request): AsyncIterable<SubscriptionMessage> {
    const isCommands = ++subscriptions === 2;
    let handedOut = 0;
    try {
      for await (const message of store.subscribe(request)) {
        if (interrupt.signal.aborted) afterInterrupt++;
        yield message;
        if (isCommands && ++handedOut === interruptAfter) interrupt.abort();
      }
    } finally {
      if (isCommands) commandsReadEnded = true;
    }
  });
  return { store: counting, afterInterrupt: () => afterInterrupt, commandsReadEnded: () => commandsReadEnded };
}

async function contextOver(store: EventStore, interrupted: AbortSignal): Promise<CliContext> {
  const readModels = ['accountSummaries', 'transactionHistories'] as const;
  const bank = wireBank({ store, tenantId: TENANT, readModels });
  await bank.projector.caughtUp;
  const output = silentOutput();
  return {
    bank,
    store,
    tenantId: TENANT,
    storeDescription: 'test',
    newId: () => 'unused',
    out: output,
    tracer: new Tracer(() => {}, output.style),
    savedReadModels: await SavedReadModels.open({ store, tenantId: TENANT, address: undefined, readModels, fresh: false, notice: () => {}, warn: () => {} }),
    interrupted,
  };
}

describe('a shell command interrupted part-way', () => {
  it.each([
    ['rebuild', (context: CliContext) => runRebuild(context, { json: false })],
    ['summary --as-of', (context: CliContext) => runReadCommand(context, { command: 'summary', accountId: 'acc-1', asOf: { position: LOG_LENGTH } }, { trace: false, json: false })],
    ['events', (context: CliContext) => runEvents(context, undefined, { json: false })],
  ])('%s stops reading the log', async (_, run) => {
    const backing = await filledStore();
    const interrupt = new AbortController();
    const { store, afterInterrupt, commandsReadEnded } = interruptedPartWay(backing, interrupt, LOG_LENGTH / 4);
    const context = await contextOver(store, interrupt.signal);
    try {
      await expect(run(context)).rejects.toThrow();
      expect(interrupt.signal.aborted).toBe(true);
      // Its subscription is closed, not left to run on (or to follow the log live).
      await until(commandsReadEnded, 'the command\'s subscription to end');
      expect(afterInterrupt()).toBeLessThan(SLACK);
    } finally {
      await context.bank.stop();
    }
  });
});

function silentOutput(): Output {
  const plain = (text: string): string => text;
  return {
    style: { bold: plain, dim: plain, green: plain, red: plain, yellow: plain, cyan: plain },
    interactive: false,
    line: () => {},
    problem: () => {},
    json: () => {},
    status: () => {},
  };
}
