// A write the store recorded is reported as recorded, whatever befalls the read side
// afterwards: a caller told "failed" would send the deposit again.
import { describe, expect, it } from 'vitest';
import { readWholeStream } from '../../src/event-store/event-store.ts';
import { StoreUnavailableError } from '../../src/event-store/errors.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { READ_MODELS_NEEDED } from '../../src/cli/read-models-needed.ts';
import { SavedReadModels } from '../../src/cli/saved-read-models.ts';
import type { CliContext } from '../../src/cli/cli-context.ts';
import type { Output } from '../../src/cli/terminal.ts';
import { Tracer } from '../../src/cli/trace.ts';
import { runWriteCommand } from '../../src/cli/write-commands.ts';
import { wireBank } from '../../src/wire.ts';
import { withDyingSubscriptions } from '../support/stores.ts';

describe('a write command whose read side has stopped', () => {
  it('says the events were recorded, warns, and exits 0', async () => {
    const store = new InMemoryEventStore();
    // Appends work; the subscription feeding the read side dies once it is live.
    const readSideDies = withDyingSubscriptions(store, new StoreUnavailableError('the server went away'));
    const { output, lines, problems } = capturedOutput();
    const readModels = READ_MODELS_NEEDED.open;
    const bank = wireBank({ store: readSideDies, tenantId: 'tenant-1', readModels });
    const context: CliContext = {
      bank,
      store: readSideDies,
      tenantId: 'tenant-1',
      storeDescription: 'test',
      newId: () => 'acc-1',
      out: output,
      tracer: new Tracer(() => {}, output.style),
      savedReadModels: await SavedReadModels.open({ store, tenantId: 'tenant-1', address: undefined, readModels, fresh: false, notice: () => {}, warn: () => {} }),
    };
    try {
      await bank.projector.failed.catch(() => undefined);
      const open = { command: 'open', customerId: 'alice', accountType: 'Checking', initialBalanceCents: 100 } as const;
      const code = await runWriteCommand(context, open, false);

      expect(code).toBe(0);
      expect(lines.join('\n')).toContain('AccountOpened (Checking for alice, 1.00)');
      expect(lines.join('\n')).toContain('Account id: acc-1');
      expect(problems.join('\n')).toMatch(/warning: recorded, but the read models cannot show it yet: the projector stopped: the server went away/);
      expect(await readWholeStream(store, { tenantId: 'tenant-1', aggregateId: 'acc-1' })).toHaveLength(1);
    } finally {
      await bank.stop();
      await store.close();
    }
  });
});

function capturedOutput(): { output: Output; lines: string[]; problems: string[] } {
  const lines: string[] = [];
  const problems: string[] = [];
  const plain = (text: string): string => text;
  const output: Output = {
    style: { bold: plain, dim: plain, green: plain, red: plain, yellow: plain, cyan: plain },
    interactive: false,
    line: (text = '') => void lines.push(text),
    problem: (text) => void problems.push(text),
    json: (value) => void lines.push(JSON.stringify(value)),
    status: () => {},
  };
  return { output, lines, problems };
}
