// The composition root: reads the command line, picks the event store (in this process, or
// the gRPC server), wires the write and read sides around it and hands them to the command
// asked for; without one, to the walkthrough. Exit codes are documented in `--help`.

import { readFile } from 'node:fs/promises';
import type { EventStore } from './event-store/event-store.ts';
import { newId } from './ids.ts';
import { GrpcEventStore } from './event-store/grpc-event-store.ts';
import { InMemoryEventStore } from './event-store/in-memory-event-store.ts';
import { parseCommandLine } from './cli/arguments.ts';
import { dispatch } from './cli/dispatch.ts';
import { warnOfParked } from './cli/event-log.ts';
import { describeFailure, EXIT } from './cli/exit-codes.ts';
import type { ExitCode } from './cli/exit-codes.ts';
import { subcommandHelp, toolHelp } from './cli/help.ts';
import { READ_MODELS_NEEDED } from './cli/read-models-needed.ts';
import { SavedReadModels } from './cli/saved-read-models.ts';
import type { CliContext } from './cli/cli-context.ts';
import { oneLine, terminalOutput } from './cli/terminal.ts';
import { chooseStore } from './cli/store-choice.ts';
import type { StoreChoice } from './cli/store-choice.ts';
import { Tracer } from './cli/trace.ts';
import { UsageError } from './cli/usage-error.ts';
import { wireBank } from './wire.ts';

async function main(argv: string[]): Promise<ExitCode> {
  const out = terminalOutput();
  const debug = argv.includes('--debug');
  try {
    const { global, invocation } = parseCommandLine(argv);
    if (invocation.command === 'help') {
      out.line(invocation.topic === undefined ? toolHelp() : subcommandHelp(invocation.topic));
      return EXIT.done;
    }
    const { store, storeDescription, address } = await openStore(chooseStore(global, process.env, invocation.command));
    // Trace lines go to stderr under --json, so the JSON on stdout stays parseable.
    const tracer = new Tracer(global.json ? out.problem : out.line, out.style);
    const tenantId = global.tenant ?? (process.env.EVENT_STORE_TENANT || 'example-tenant');
    // Only the read models the command reads, each resumed from its own checkpoint if it is of this log.
    const readModels = READ_MODELS_NEEDED[invocation.command];
    const warn = global.trace ? out.problem : () => {};
    const savedReadModels = await SavedReadModels.open({ store, tenantId, address, readModels, fresh: global.fresh, notice: out.problem, warn });
    const bank = wireBank({ store, tenantId, readModels, observeCommands: tracer.onCommandStep, onProjected: tracer.onProjected, onParked: warnOfParked(out), onReadModelStopped: (stopped) => out.problem(oneLine(`warning: ${stopped.message}`)), resume: savedReadModels.resume() });
    const context: CliContext = { bank, store, tenantId, storeDescription, newId, out, tracer, savedReadModels };
    // watch and shell run until asked to stop, and end cleanly; anything else Ctrl-C ends
    // at once, which is safe: an append is all or nothing. The shell takes Ctrl-C itself
    // (it clears the line or interrupts a command), so only SIGTERM stops it from here.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    const untilStopped = invocation.command === 'watch' || invocation.command === 'shell';
    if (untilStopped) process.once('SIGTERM', onSignal);
    if (invocation.command === 'watch') process.once('SIGINT', onSignal);
    const periodicSaves = untilStopped ? savedReadModels.saveEvery(bank) : undefined;
    try {
      return await dispatch(context, invocation, global, stop.signal);
    } finally {
      if (untilStopped) process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      await periodicSaves?.stop();
      await bank.stop();
      await savedReadModels.save(bank);
      await store.close();
    }
  } catch (error) {
    const failure = describeFailure(error, { debug });
    out.problem(failure.message);
    return failure.code;
  }
}

async function openStore(choice: StoreChoice): Promise<{ store: EventStore; storeDescription: string; address?: string }> {
  if (choice.kind === 'memory') return { store: new InMemoryEventStore(), storeDescription: 'in memory, inside this process' };
  const { address, token, tls } = choice;
  const ca = tls?.caFile === undefined ? undefined : await readFile(tls.caFile).catch((error: unknown) => {
    throw new UsageError(`EVENT_STORE_TLS_CA: cannot read ${tls.caFile}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const store = await GrpcEventStore.connect({
    address,
    ...(token === undefined ? {} : { token }),
    ...(tls === undefined ? {} : { tls: ca === undefined ? {} : { ca } }),
  });
  return { store, storeDescription: `the gRPC server at ${address}${tls === undefined ? '' : ' (TLS)'}`, address };
}

process.exitCode = await main(process.argv.slice(2));
