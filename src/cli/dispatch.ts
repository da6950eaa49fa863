// Routes one parsed invocation to the code that carries it out, on the write side, the
// read side or the event log. The shell comes back through here for every line it reads.

import { unreachable } from '../domain/bank-account.ts';
import { needReadModels } from '../read-side/read-models.ts';
import { parseCommandLine } from './arguments.ts';
import { UsageError } from './usage-error.ts';
import type { GlobalOptions, Invocation } from './arguments.ts';
import { runEvents, runWatch } from './event-log.ts';
import { describeFailure, EXIT } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import { subcommandHelp, toolHelp } from './help.ts';
import { runReadCommand } from './read-commands.ts';
import { runRebuild } from './rebuild.ts';
import type { CliContext } from './cli-context.ts';
import { silencedOnAbort } from './terminal.ts';
import { runShell } from './shell.ts';
import { FOLLOWED_LIVE, runWalkthrough } from './walkthrough.ts';
import { runWriteCommand } from './write-commands.ts';

export async function dispatch(context: CliContext, invocation: Invocation, options: GlobalOptions, stop: AbortSignal): Promise<ExitCode> {
  const flags = { trace: options.trace, json: options.json };
  switch (invocation.command) {
    case 'help':
      context.out.line(invocation.topic === undefined ? toolHelp() : subcommandHelp(invocation.topic));
      return EXIT.done;
    case 'walkthrough':
      await runWalkthrough({ bank: needReadModels(context.bank, ...FOLLOWED_LIVE), store: context.store, tenantId: context.tenantId, storeDescription: context.storeDescription, newId: context.newId, print: context.out.line });
      return EXIT.done;
    case 'open':
    case 'deposit':
    case 'withdraw':
    case 'close':
      return runWriteCommand(context, invocation, flags.trace);
    case 'summary':
    case 'history':
    case 'accounts':
    case 'portfolio':
      return runReadCommand(context, invocation, flags);
    case 'events':
      return runEvents(context, invocation.accountId, flags);
    case 'watch':
      return runWatch(context, stop);
    case 'rebuild':
      return runRebuild(context, flags);
    case 'shell':
      return runShell(context.out, context.storeDescription, (words, interrupted) => runShellLine(context, words, options, interrupted), stop);
    default:
      return unreachable(invocation);
  }
}

/**
 * One line typed at the shell. Interrupted, the command stops reading (context.interrupted)
 * and nothing more of it is shown; an append already sent still lands whole or not at all.
 */
async function runShellLine(context: CliContext, words: string[], shell: GlobalOptions, interrupted: AbortSignal): Promise<ExitCode> {
  const line: CliContext = { ...context, out: silencedOnAbort(context.out, interrupted), interrupted };
  interrupted.addEventListener('abort', () => context.tracer.abandon(), { once: true });
  try {
    const { global, invocation } = parseCommandLine(words);
    if (global.memory || global.addr !== undefined || global.tenant !== undefined || global.fresh) {
      throw new UsageError('--memory, --addr, --tenant and --fresh are chosen when the shell starts');
    }
    if (invocation.command === 'walkthrough') throw new UsageError('type a command (`help` lists them); the walkthrough runs with `pnpm start` alone');
    if (invocation.command === 'shell' || invocation.command === 'watch') {
      throw new UsageError(`${invocation.command} runs outside the shell: \`pnpm start -- ${invocation.command}\``);
    }
    if (invocation.command === 'help') {
      line.out.line(invocation.topic === undefined ? toolHelp('shell') : subcommandHelp(invocation.topic, 'shell'));
      return EXIT.done;
    }
    // A shell started with --trace or --debug keeps them on for every line.
    return await dispatch(line, invocation, { ...global, trace: global.trace || shell.trace, debug: global.debug || shell.debug }, interrupted);
  } catch (error) {
    const failure = describeFailure(error, { debug: shell.debug, context: 'shell' });
    line.out.problem(failure.message);
    return failure.code;
  }
}
