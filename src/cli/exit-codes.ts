// The one place where outcomes become exit codes and failures become messages, as the
// tool's --help documents them: 0 done, 1 refused by a rule, 2 bad usage or input,
// 3 event store unreachable, 4 anything unexpected.

import type { BankAccountRejection } from '../domain/bank-account.ts';
import { InvalidRequestError, LimitExceededError, MissingTenantError, StoreUnavailableError } from '../event-store/errors.ts';
import { ProjectorStoppedError } from '../read-side/projector.ts';
import { UsageError } from './arguments.ts';
import { subcommandHelp } from './help.ts';

export const EXIT = { done: 0, refused: 1, usage: 2, unreachable: 3, unexpected: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An unknown account is bad input to the tool, not a business decision. */
export function exitCodeForRejection(rejection: BankAccountRejection): ExitCode {
  return rejection.code === 'AccountNotFound' ? EXIT.usage : EXIT.refused;
}

/** A reading command asked about something that is not there: bad input, exit 2. */
export class NotFoundError extends Error {}

export function describeFailure(thrown: unknown, options: { debug: boolean }): { code: ExitCode; message: string } {
  // A stopped projector passes on why it stopped: that decides the code and the advice.
  const error = thrown instanceof ProjectorStoppedError && thrown.cause !== undefined ? thrown.cause : thrown;
  if (error instanceof UsageError) {
    const usage = error.subcommand === undefined ? 'Run `pnpm start -- --help` for the commands.' : subcommandHelp(error.subcommand).split('\n')[0];
    return { code: EXIT.usage, message: `error: ${error.message}\n${usage}` };
  }
  if (error instanceof NotFoundError) return { code: EXIT.usage, message: `error: ${error.message}` };
  // The store refused the request itself (a limit, a malformed field): bad input too.
  if (error instanceof MissingTenantError || error instanceof InvalidRequestError || error instanceof LimitExceededError) {
    return { code: EXIT.usage, message: `error: the event store refused the request: ${error.message}` };
  }
  if (error instanceof StoreUnavailableError) {
    return {
      code: EXIT.unreachable,
      message: [
        `error: the event store cannot be reached: ${error.message}`,
        'Start the server in another terminal with `pnpm event-store`,',
        'or run everything in this process with `pnpm start -- --memory`.',
      ].join('\n'),
    };
  }
  const detail = error instanceof Error ? (options.debug ? (error.stack ?? error.message) : error.message) : String(error);
  return { code: EXIT.unexpected, message: `error: ${detail}${options.debug ? '' : '\n(--debug shows the stack trace)'}` };
}
