// `pnpm bench`: how fast the bank runs, each figure beside a floor measured in the same run
// (bare gRPC, bare PostgreSQL) and the ratio to it, so the ratios mean something on a noisy
// two-core machine where absolute numbers do not. Not a test: a missed target fails nothing.
//
// Sizes: BENCH_SECONDS (measured per row, default 2), BENCH_ROUNDS (turns a row and its floor
// take within those seconds, 2), BENCH_EVENTS (catch-up and CLI log, 200000),
// BENCH_MEMORY_EVENTS (200000) and BENCH_MEMORY_SECONDS (25, whichever ends first),
// BENCH_SHORT_STREAM (20), BENCH_LONG_STREAM (2000). PostgreSQL rows need DATABASE_URL.
// Some rows only: `pnpm bench -- postgres` or BENCH_ONLY=postgres,live (see only.ts); the
// row groups are the section names below. Progress goes to stderr, the report to stdout.

import { startEventStoreServer, stopAllChildren } from './children.ts';
import { Floors } from './floors.ts';
import { progress, SIZES } from './measure.ts';
import { ONLY, wanted } from './only.ts';
import { DATABASE_URL, dropSchemas } from './postgres.ts';
import { Report } from './report.ts';
import { grpcMemoryWriteRows, inProcessRows } from './rows-commands.ts';
import { memoryBytesRow } from './rows-memory.ts';
import { postgresRows } from './rows-postgres.ts';
import { cliSummaryRows } from './rows-cli.ts';
import { liveLatencyRows, memoryCatchUpRows } from './rows-reads.ts';
import { appendMessageBytes, eventMessageBytes } from './workload.ts';

const report = new Report();
let failures = 0;

/** Runs one section, if wanted (see only.ts). */
async function section(name: string, work: () => Promise<void>): Promise<void> {
  if (wanted(name)) await attempt(name, work);
}

/** A failure is reported and the run goes on with the next section. */
async function attempt(name: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    failures++;
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
    progress(`${name} FAILED: ${why}`);
    report.note(`${name}: not measured, it failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

// A signal ends the process without running finally blocks: stop the children and drop
// the schemas here instead.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping children and dropping schemas`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function cleanUp(): Promise<void> {
  await stopAllChildren();
  if (DATABASE_URL !== undefined) await dropSchemas(DATABASE_URL).catch((error: unknown) => progress(`could not drop the bench schemas: ${String(error)}`));
}

async function main(): Promise<void> {
  const messageBytes = appendMessageBytes();
  const eventBytes = eventMessageBytes();
  progress(`sizes: ${SIZES.seconds} s per row, ${SIZES.catchUpEvents} events to catch up, up to ${SIZES.memoryEvents} for bytes per event; append message ${messageBytes} bytes, event message ${eventBytes} bytes`);
  if (DATABASE_URL === undefined) {
    report.note('DATABASE_URL is not set: the PostgreSQL floors and rows are left out (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)');
  }
  if (ONLY.length > 0) report.note(`only the row groups matching ${ONLY.join(', ')} were run`);
  const floors = await Floors.start({ messageBytes, eventBytes }, DATABASE_URL);
  try {
    await section('in-process commands', () => inProcessRows(report, floors));
    if (MEMORY_SERVER_SECTIONS.some(wanted)) await attempt('gRPC → memory', () => memoryServerRows(floors));
    await section('memory backend bytes per event', () => memoryBytesRow(report, messageBytes));
    const databaseUrl = DATABASE_URL;
    if (databaseUrl !== undefined) await postgresRows(report, databaseUrl, floors, section);
  } finally {
    await floors.close();
  }
  report.print((line) => process.stdout.write(`${line}\n`));
}

const MEMORY_SERVER_SECTIONS = ['gRPC → memory writes', 'gRPC → memory live latency', 'gRPC → memory catch-up', 'CLI summary'];

/** The rows served by one memory backend child, as `pnpm event-store` runs it. */
async function memoryServerRows(floors: Floors): Promise<void> {
  progress('starting the event store server child, BACKEND=memory');
  const server = await startEventStoreServer({ BACKEND: 'memory' });
  try {
    const { address } = server;
    await section('gRPC → memory writes', () => grpcMemoryWriteRows(report, address, floors));
    await section('gRPC → memory live latency', () => liveLatencyRows(report, address, floors));
    // The CLI rows read the long log the catch-up row fills.
    let longLog: { tenantId: string; accountId: string } | undefined;
    if (wanted('gRPC → memory catch-up') || wanted('CLI summary')) longLog = await memoryCatchUpRows(report, address, floors);
    await section('CLI summary', () => cliSummaryRows(report, address, longLog ?? { tenantId: '', accountId: '' }));
  } finally {
    await server.stop();
  }
}

try {
  await main();
} finally {
  await cleanUp();
}
if (failures > 0) {
  progress(`${failures} section(s) failed; see the notes`);
  process.exitCode = 1;
}
