// `rebuild`: the proof that read models are disposable. Replays the whole log into fresh
// read models, compares them with the live ones (which may have resumed from a checkpoint),
// reports how fast the replay ran, and saves the rebuilt ones as the next checkpoint.

import { performance } from 'node:perf_hooks';
import { listed, needReadModels, READ_MODEL_KEYS, READ_MODEL_NAMES } from '../read-side/read-models.ts';
import { sameReadModels } from '../wire.ts';
import { EXIT } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { CliContext } from './cli-context.ts';

export async function runRebuild(context: CliContext, flags: { json: boolean }): Promise<ExitCode> {
  const { bank, out, savedReadModels } = context;
  const showBar = out.interactive && !flags.json;
  if (showBar) out.status('the live read models are catching up with the log ...');
  await bank.projector.caughtUp;
  bank.projector.throwIfFailed();
  // Replay exactly the log the live read models reflect, even if writers carry on meanwhile.
  const head = bank.projector.position;
  let events = 0;
  let drawnAt = 0;
  const started = performance.now();
  const rebuilt = await bank.rebuild({
    signal: context.interrupted,
    until: (recorded) => recorded.globalPosition <= head,
    onApplied: (recorded) => {
      events++;
      if (showBar && performance.now() - drawnAt > 100) {
        drawnAt = performance.now();
        out.status(progressBar(recorded.globalPosition, head));
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (showBar) out.status(`${progressBar(head, head)}\n`);

  const live = needReadModels(bank, ...READ_MODEL_KEYS);
  const differing = READ_MODEL_KEYS.filter((key) => !sameReadModels(rebuilt, live, [key])).map((key) => READ_MODEL_NAMES[key]);
  const equal = differing.length === 0;
  const saved = await savedReadModels.afterRebuild(rebuilt, equal);
  const eventsPerSecond = seconds > 0 ? Math.round(events / seconds) : events;
  const readModels = READ_MODEL_KEYS.map((key) => READ_MODEL_NAMES[key]);
  if (flags.json) {
    out.json({ events, position: rebuilt.projector.position, seconds: Number(seconds.toFixed(3)), eventsPerSecond, readModels, equal, saved });
  } else {
    out.line(`Rebuilt the read models from ${events} ${events === 1 ? 'event' : 'events'}, up to log position ${rebuilt.projector.position}, in ${seconds.toFixed(2)} s (${eventsPerSecond} events/s).`);
    out.line(equal
      ? `${out.style.green('✓')} ${listed(readModels)} equal the live read models.`
      : `${out.style.red('✗')} The rebuilt read models differ from the live ones. ${listed(differing)} ${differing.length === 1 ? 'differs' : 'differ'}.`);
    if (saved) out.line(out.style.dim(`Saved them, each with its checkpoint, for the next run to resume from (in ${savedReadModels.folder}).`));
    if (!equal && savedReadModels.resumedAny) {
      out.line(`The live ones resumed from their saves in ${savedReadModels.folder}, left as they were: --fresh ignores them; deleting them makes the next run replay the log.`);
    }
  }
  return equal ? EXIT.done : EXIT.unexpected;
}

function progressBar(position: number, head: number): string {
  const width = 30;
  const share = head === 0 ? 1 : Math.min(position / head, 1);
  const filled = Math.round(share * width);
  return `replaying [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}%  position ${position} of ${head}`;
}
