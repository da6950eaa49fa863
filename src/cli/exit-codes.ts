// The one place where outcomes become exit codes and failures become messages, as the
// tool's --help documents them: 0 done, 1 refused by a rule, 2 bad usage or input,
// 3 event store unreachable or our token refused, 4 anything unexpected, 130 interrupted
// (as a shell counts it).

import type { BankAccountRejection } from '../domain/bank-account.ts';
import {
  InvalidRequestError,
  LimitExceededError,
  MissingTenantError,
  PermissionDeniedError,
  StoreUnavailableError,
  UnauthenticatedError,
} from '../event-store/errors.ts';
import { ProjectorStoppedError } from '../read-side/projector.ts';
import { UsageError } from './usage-error.ts';
import { subcommandHelp } from './help.ts';
import type { HelpContext } from './help.ts';
import { describeRejection } from './messages.ts';

export const EXIT = { done: 0, refused: 1, usage: 2, unreachable: 3, unexpected: 4, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An unknown account, or an amount no account could record, is bad input to the tool, not a business decision. */
export function exitCodeForRejection(rejection: BankAccountRejection): ExitCode {
  return BAD_INPUT.includes(rejection.code) ? EXIT.usage : EXIT.refused;
}

const BAD_INPUT: readonly BankAccountRejection['code'][] = ['AccountNotFound', 'AmountNotWholeCents', 'AmountTooLarge'];

/** `refused:` is the word for a business rule; bad input is an `error:` like any other. */
export function describeRefusal(rejection: BankAccountRejection): { code: ExitCode; message: string } {
  const code = exitCodeForRejection(rejection);
  return { code, message: `${code === EXIT.refused ? 'refused' : 'error'}: ${describeRejection(rejection)}` };
}

/** A reading command asked about something that is not there: bad input, exit 2. */
export class NotFoundError extends Error {}

export function describeFailure(thrown: unknown, options: { debug: boolean; context?: HelpContext }): { code: ExitCode; message: string } {
  // A stopped projector passes on why it stopped: that decides the code and the advice.
  const error = thrown instanceof ProjectorStoppedError && thrown.cause !== undefined ? thrown.cause : thrown;
  if (error instanceof UsageError) {
    const context = options.context ?? 'command line';
    const usage = error.subcommand !== undefined
      ? subcommandHelp(error.subcommand, context).split('\n')[0]
      : context === 'shell' ? '`help` lists the commands.' : 'Run `pnpm start -- --help` for the commands.';
    return { code: EXIT.usage, message: `error: ${error.message}\n${usage}` };
  }
  if (error instanceof NotFoundError) return { code: EXIT.usage, message: `error: ${error.message}` };
  // The store refused the request itself (a limit, a malformed field): bad input too.
  if (error instanceof MissingTenantError || error instanceof InvalidRequestError || error instanceof LimitExceededError) {
    return { code: EXIT.usage, message: `error: the event store refused the request: ${error.message}` };
  }
  // Not bad input to the command: the same command works with the right token.
  if (error instanceof UnauthenticatedError || error instanceof PermissionDeniedError) {
    return { code: EXIT.unreachable, message: `error: ${error.message}\n${TOKEN_HINT}` };
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

const TOKEN_HINT = 'Give a token that the server\'s tokens file lists for this tenant: EVENT_STORE_TOKEN=... (or --token).';
