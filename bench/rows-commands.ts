// Bench rows for the write side: commands in process on short and long streams beside the
// plain read-everything handler, then commands and bare appends over gRPC to the memory
// server, each against the floor that bounds it.

import { newId } from '../src/ids.ts';
import { bankAccount } from '../src/domain/bank-account.ts';
import type { BankAccountCommand } from '../src/domain/bank-account.ts';
import { accountStream, decode, encode } from '../src/domain/bank-account-codec.ts';
import type { EventStore } from '../src/event-store/event-store.ts';
import { readWholeStream } from '../src/event-store/event-store.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../src/event-store/in-memory-event-store.ts';
import { wireBank } from '../src/wire.ts';
import type { Floors } from './floors.ts';
import { measureInterleaved, measureRate, progress, SIZES } from './measure.ts';
import type { Slot } from './measure.ts';
import type { Report } from './report.ts';
import { depositAppend, prepareCommands } from './workload.ts';

type Handle = (command: BankAccountCommand) => Promise<void>;

/**
 * The plain algorithm, written out here as the yardstick: read the whole stream, decode,
 * fold, decide, append with the version decided against. No cache, no retry.
 */
function naiveHandler(store: EventStore, tenantId: string): Handle {
  return async (command) => {
    const stream = accountStream(command.data.accountId);
    const history = await readWholeStream(store, { tenantId, aggregateId: stream.aggregateId });
    const state = history.map(decode).reduce(bankAccount.evolve, bankAccount.initialState);
    const decision = bankAccount.decide(command, state);
    if (!decision.accepted) throw new Error(`a bench command was refused: ${decision.rejection.code}`);
    const commandId = newId();
    await store.append({
      tenantId,
      stream,
      expectedVersion: history.at(-1)?.version ?? 0,
      idempotencyKey: commandId,
      events: decision.events.map((event) => ({
        ...encode(event),
        eventId: newId(),
        correlationId: commandId,
        causationId: commandId,
        clientTimestampMs: Date.now(),
      })),
    });
  };
}

/**
 * The project's own command handler, as wired for the CLI. Its projector is stopped: these
 * rows time the write side alone (the read side has rows of its own), and a running
 * projector would spend the timed window projecting the accounts filled for the row.
 */
async function projectHandler(store: EventStore, tenantId: string): Promise<Handle> {
  const bank = wireBank({ store, tenantId });
  await bank.stop();
  return async (command) => {
    const outcome = await bank.handle(command);
    if (outcome.status !== 'accepted') throw new Error(`a bench command was not recorded: ${outcome.status === 'rejected' ? outcome.rejection.code : outcome.status}`);
  };
}

interface Measured {
  completed: number;
  cpuSeconds: number;
  eventsBefore: number;
}

/** One slice of an in-process row on a store of its own, dropped afterwards so rows never share a heap. */
async function inProcessSlice(kind: 'naive' | 'commands', streamLength: number, seconds: number, into: Measured): Promise<void> {
  const name = `in process: ${kind === 'naive' ? 'naive handler' : 'command handler'} at ${streamLength} events per stream`;
  progress(`${name}: filling accounts, then ${seconds.toFixed(2)} s`);
  const store = new InMemoryEventStore();
  try {
    const tenantId = `bench-${newId()}`;
    const handle = kind === 'naive' ? naiveHandler(store, tenantId) : await projectHandler(store, tenantId);
    // The pool must last `seconds` of the wall clock: size it by the rate per CPU-second,
    // which is never below the wall-clock rate of one busy thread.
    const expectedPerS = into.completed / Math.max(into.cpuSeconds, 0.001);
    const slot = await prepareCommands({ name, store, tenantId, streamLength, inFlight: 1, handle, seconds, expectedPerS });
    const rate = await measureRate(slot, { seconds, warmupSeconds: 0.2, clock: 'cpu' });
    into.completed += rate.completed;
    into.cpuSeconds += rate.measuredSeconds;
    into.eventsBefore += slot.meanStreamLength() * rate.completed;
  } finally {
    await store.close();
  }
}

/**
 * The rows take turns, as the gRPC rows and their floors do, but each turn fills a fresh
 * store: a fast handler's accounts run to hundreds of thousands of events, and rows sharing
 * one heap would slow each other's garbage collection. Nothing here waits on another
 * process, so rates are per CPU-second of this process: other engineers' load on the two
 * cores then moves the ratios far less than it moves wall-clock rates.
 */
export async function inProcessRows(report: Report, floors: Floors): Promise<void> {
  const { shortStream, longStream, rounds } = SIZES;
  const slice = SIZES.seconds / rounds;
  const empty = (): Measured => ({ completed: 0, cpuSeconds: 0, eventsBefore: 0 });
  const [append, naiveShort, short, long, naiveLong] = [empty(), empty(), empty(), empty(), empty()];
  for (let round = 0; round < rounds; round++) {
    progress(`in process: round ${round + 1} of ${rounds}`);
    const appended = await measureRate(floors.memoryAppend(), { seconds: slice, warmupSeconds: 0.2, clock: 'cpu' });
    append.completed += appended.completed;
    append.cpuSeconds += appended.measuredSeconds;
    await inProcessSlice('naive', shortStream, slice, naiveShort);
    await inProcessSlice('commands', shortStream, slice, short);
    await inProcessSlice('commands', longStream, slice, long);
    await inProcessSlice('naive', longStream, slice, naiveLong);
  }
  const perSecond = (row: Measured): number => row.completed / row.cpuSeconds;
  const lengths = [naiveShort, short, long, naiveLong].map((row) => (row.eventsBefore / Math.max(row.completed, 1)).toFixed(0)).join(', ');
  report.note(`in-process rows: streams held on average ${lengths} events before each command (naive ${shortStream}, commands ${shortStream}, commands ${longStream}, naive ${longStream}); each account takes a quarter of its length in deposits, so a handler that reads an account once reads as many events per command at either length; the projector is stopped in command rows`);
  const floor = (label: string, value: number) => ({ label, value });
  report.figure({
    key: `inproc_naive_${shortStream}`,
    label: `in-process naive handler, ${shortStream} events/stream`,
    value: perSecond(naiveShort),
    unit: 'per_cpu_s',
    floor: floor('in-memory append, in process', perSecond(append)),
  });
  report.figure({
    key: `inproc_commands_${shortStream}`,
    label: `in-process commands, ${shortStream} events/stream`,
    value: perSecond(short),
    unit: 'per_cpu_s',
    floor: floor(`naive at ${shortStream}`, perSecond(naiveShort)),
    target: { on: 'ratio', op: '>=', bound: 2 },
  });
  report.figure({
    key: `inproc_commands_${longStream}`,
    label: `in-process commands, ${longStream} events/stream`,
    value: perSecond(long),
    unit: 'per_cpu_s',
    floor: floor(`commands at ${shortStream}`, perSecond(short)),
    target: { on: 'ratio', op: '>=', bound: 0.8 },
  });
  report.figure({
    key: `inproc_naive_${longStream}`,
    label: `in-process naive handler, ${longStream} events/stream`,
    value: perSecond(naiveLong),
    unit: 'per_cpu_s',
    floor: floor(`naive at ${shortStream}`, perSecond(naiveShort)),
  });
}

/** Commands and bare appends through a client in this process to the memory server child at `address`. */
export async function grpcMemoryWriteRows(report: Report, address: string, floors: Floors): Promise<void> {
  const client = await GrpcEventStore.connect({ address });
  const lengths: string[] = [];
  try {
    for (const inFlight of [1, 32]) {
      const how = inFlight === 1 ? 'sequential' : `${inFlight} in flight`;
      const key = inFlight === 1 ? 'seq' : String(inFlight);
      progress(`gRPC → memory, ${how}: preparing commands and appends`);
      const tenantId = `bench-${newId()}`;
      const handle = await projectHandler(client, tenantId);
      const commands = await prepareCommands({ name: `commands ${how}`, store: client, tenantId, streamLength: SIZES.shortStream, inFlight, handle, knownAccounts: true });
      const appendTenant = `bench-${newId()}`;
      const versions = new Array<number>(inFlight).fill(0);
      const appends: Slot = {
        name: `bare appends ${how}`,
        inFlight,
        op: async (worker) => {
          const expectedVersion = versions[worker] ?? 0;
          await client.append(depositAppend({ tenantId: appendTenant, accountId: `writer-${worker}`, expectedVersion }));
          versions[worker] = expectedVersion + 1;
        },
      };
      const [echo, commandRate, appendRate] = await measureInterleaved([floors.echo(inFlight), commands, appends]);
      const floor = { label: `echo ${how}`, value: echo?.perSecond ?? Number.NaN };
      lengths.push(commands.meanStreamLength().toFixed(0));
      report.figure({
        key: `grpc_memory_commands_${key}`,
        label: `gRPC → memory commands, ${how}`,
        value: commandRate?.perSecond ?? Number.NaN,
        unit: 'per_s',
        floor,
        target: { on: 'ratio', op: '>=', bound: inFlight === 1 ? 0.7 : 0.6 },
      });
      report.figure({ key: `grpc_memory_append_${key}`, label: `gRPC → memory bare append, ${how}`, value: appendRate?.perSecond ?? Number.NaN, unit: 'per_s', floor });
    }
    report.note(`gRPC command rows: each writer sends its deposits to one account it has used before (the state cache holds it), starting at ${SIZES.shortStream} events; streams held on average ${lengths.join(' and ')} events; the projector is stopped`);
  } finally {
    await client.close();
  }
}
