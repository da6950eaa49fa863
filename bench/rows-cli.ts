// Bench rows for the CLI as a person runs it: `summary ACCOUNT` in a child process against a
// long log and against a tiny one, cold (a fresh cache folder) and warm (the same folder again).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../src/ids.ts';
import { GrpcEventStore } from '../src/event-store/grpc-event-store.ts';
import { runScript } from './children.ts';
import { progress, SIZES } from './measure.ts';
import type { Report } from './report.ts';
import { fillAccount } from './workload.ts';

interface Log {
  readonly name: string;
  readonly tenantId: string;
  readonly accountId: string;
}

/**
 * The runs alternate (tiny cold, long cold, tiny warm, long warm) so that each ratio compares
 * two runs made close together. Each log has a fresh XDG_CACHE_HOME of its own, where the
 * CLI may keep read-model checkpoints: the first run may build them, the second may use them.
 */
export async function cliSummaryRows(report: Report, address: string, long: { tenantId: string; accountId: string }): Promise<void> {
  const tiny: Log = { name: 'tiny', tenantId: `bench-tiny-${newId()}`, accountId: 'tiny-1' };
  const longLog: Log = { name: `${SIZES.catchUpEvents}-event`, ...long };
  const writer = await GrpcEventStore.connect({ address });
  try {
    await fillAccount(writer, tiny.tenantId, tiny.accountId, 3);
  } finally {
    await writer.close();
  }
  const caches = new Map<Log, string>();
  try {
    for (const log of [tiny, longLog]) caches.set(log, await mkdtemp(join(tmpdir(), 'bench-cli-cache-')));
    const summary = async (log: Log, run: string): Promise<number> => {
      progress(`CLI: summary on the ${log.name} log, ${run}`);
      const args = ['--addr', address, '--tenant', log.tenantId, 'summary', log.accountId];
      // EVENT_STORE_MODE=memory in the caller's environment would send the CLI to a store of its own.
      const done = await runScript('src/main.ts', args, { XDG_CACHE_HOME: caches.get(log) ?? '', EVENT_STORE_MODE: '' });
      if (done.code !== 0) throw new Error(`summary on the ${log.name} log exited with ${done.code}:\n${done.stdout}\n${done.stderr}`);
      return done.wallMs;
    };
    progress('CLI: start-up floor (`help`), run twice so the second finds tsx\'s compile cache warm');
    await runScript('src/main.ts', ['help'], {});
    const help = await runScript('src/main.ts', ['help'], {});
    if (help.code !== 0) throw new Error(`the CLI's help exited with ${help.code}:\n${help.stderr}`);
    const tinyCold = await summary(tiny, 'cold');
    const longCold = await summary(longLog, 'cold');
    const tinyWarm = await summary(tiny, 'warm');
    const longWarm = await summary(longLog, 'warm');

    const events = SIZES.catchUpEvents;
    const helpFloor = { label: 'CLI help', value: help.wallMs };
    report.figure({ key: 'cli_summary_tiny_cold', label: 'CLI summary, tiny log, cold', value: tinyCold, unit: 'ms', floor: helpFloor });
    report.figure({ key: 'cli_summary_tiny_warm', label: 'CLI summary, tiny log, warm', value: tinyWarm, unit: 'ms', floor: helpFloor });
    report.figure({
      key: `cli_summary_${events}_cold`,
      label: `CLI summary, ${events} events, cold`,
      value: longCold,
      unit: 'ms',
      floor: { label: 'tiny log, cold', value: tinyCold },
    });
    report.figure({
      key: `cli_summary_${events}_warm`,
      label: `CLI summary, ${events} events, warm`,
      value: longWarm,
      unit: 'ms',
      floor: { label: 'tiny log, warm', value: tinyWarm },
      target: { on: 'ratio', op: '<=', bound: 1.5 },
    });
  } finally {
    for (const folder of caches.values()) await rm(folder, { recursive: true, force: true });
  }
}
