// The composition root: reads the options, picks the event store (in this process, or the
// gRPC server), wires the write and read sides around it and runs the walkthrough.

import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore } from './event-store/event-store.ts';
import { InMemoryEventStore } from './event-store/in-memory-event-store.ts';
import { runWalkthrough } from './cli/walkthrough.ts';
import { wireBank } from './wire.ts';

const HELP = `Usage: pnpm start [-- options]

Runs the CQRS banking walkthrough: commands on the write side, events in the event store,
projections into read models, queries on the read side.

Options:
  --memory     keep the event store in this process (same as EVENT_STORE_MODE=memory)
  -h, --help   show this help

Environment:
  EVENT_STORE_MODE     "memory" for the in-process store; anything else uses the gRPC server
  EVENT_STORE_ADDR     the gRPC event store server (default 127.0.0.1:50051)
  EVENT_STORE_TENANT   the tenant to work in (default example-tenant)
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: { memory: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const memory = values.memory === true || process.env.EVENT_STORE_MODE === 'memory';
  const tenantId = process.env.EVENT_STORE_TENANT || 'example-tenant';
  const address = process.env.EVENT_STORE_ADDR || '127.0.0.1:50051';

  let store: EventStore;
  let storeDescription: string;
  if (memory) {
    store = new InMemoryEventStore();
    storeDescription = 'in memory, inside this process';
  } else {
    console.error(`The gRPC event store client is not built yet, so ${address} cannot be used. Run with --memory.`);
    return 3;
  }

  const bank = wireBank({ store, tenantId, newId: uuidv7 });
  try {
    await runWalkthrough({ bank, storeDescription, newId: uuidv7, print: (line = '') => console.log(line) });
    return 0;
  } finally {
    await bank.stop();
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = error instanceof TypeError && 'code' in error ? 2 : 4;
  },
);
