// What the command line offers, written once: the parser checks arguments against this
// table and --help prints it, so the help cannot promise what the parser does not take.

export type OptionName =
  | 'memory' | 'addr' | 'tenant' | 'trace' | 'json' | 'debug' | 'fresh' | 'token' | 'tls' | 'help'
  | 'customer' | 'type' | 'initial' | 'id' | 'description' | 'reason' | 'as-of' | 'transaction-id' | 'close-id';

export type SubcommandName =
  | 'open' | 'deposit' | 'withdraw' | 'close' | 'summary' | 'history' | 'accounts' | 'portfolio'
  | 'events' | 'watch' | 'rebuild' | 'shell';

export interface SubcommandSpec {
  readonly name: SubcommandName;
  readonly side: 'write side' | 'read side' | 'event log' | 'tool';
  /** Positional arguments; optional ones in brackets. */
  readonly positionals: readonly string[];
  readonly options: readonly OptionName[];
  readonly usage: string;
  readonly summary: string;
  readonly example: string;
  readonly readsJson: boolean;
}

export const SUBCOMMANDS: readonly SubcommandSpec[] = [
  spec('open', 'write side', [], ['customer', 'type', 'initial', 'id'], 'open --customer C --type T --initial AMOUNT [--id ID]', 'OpenAccount: open an account (a new id unless --id)', 'open --customer alice --type Checking --initial 100.00 --id alice-checking'),
  spec('deposit', 'write side', ['ACCOUNT', 'AMOUNT'], ['description', 'transaction-id'], 'deposit ACCOUNT AMOUNT [--description D] [--transaction-id ID]', 'DepositMoney into an open account', 'deposit alice-checking 25.50 --description "Birthday" --transaction-id bday-2026'),
  spec('withdraw', 'write side', ['ACCOUNT', 'AMOUNT'], ['description', 'transaction-id'], 'withdraw ACCOUNT AMOUNT [--description D] [--transaction-id ID]', 'WithdrawMoney, refused beyond the balance', 'withdraw alice-checking 10.00 --description "ATM"'),
  spec('close', 'write side', ['ACCOUNT'], ['reason', 'close-id'], 'close ACCOUNT [--reason R] [--close-id ID]', 'CloseAccount: no more deposits or withdrawals', 'close alice-checking --reason "Moving banks"'),
  spec('summary', 'read side', ['ACCOUNT'], ['as-of'], 'summary ACCOUNT [--as-of POSITION|TIME]', 'GetAccountSummary: balance, status, transaction count', 'summary alice-checking --as-of 3', true),
  spec('history', 'read side', ['ACCOUNT'], ['as-of'], 'history ACCOUNT [--as-of POSITION|TIME]', 'GetTransactionHistory: deposits and withdrawals with the balance after each', 'history alice-checking --as-of 2026-11-29T18:00:00Z', true),
  spec('accounts', 'read side', [], ['customer'], 'accounts --customer C', "GetAccountsByCustomer: a customer's accounts", 'accounts --customer alice', true),
  spec('portfolio', 'read side', ['CUSTOMER'], ['as-of'], 'portfolio CUSTOMER [--as-of POSITION|TIME]', "GetCustomerPortfolio: a customer's accounts, total balance, money in and out", 'portfolio alice --as-of 3', true),
  spec('events', 'event log', ['[ACCOUNT]'], [], 'events [ACCOUNT]', "the raw log (or one account's stream): position, stream, version, type, time, payload", 'events alice-checking --json', true),
  spec('watch', 'event log', [], [], 'watch', 'follow the log live: each new event and the read-model change it caused, until Ctrl-C', 'watch'),
  spec('rebuild', 'read side', [], [], 'rebuild', 'replay the whole log into fresh read models, compare them with the live ones, and save them if equal', 'rebuild', true),
  spec('shell', 'tool', [], [], 'shell', 'an interactive prompt taking these commands; with --memory, its store lives as long as the shell', 'shell'),
];

/** The commands --trace follows through CQRS (a shell started with --trace traces its lines). */
export const TRACED: readonly SubcommandName[] = ['open', 'deposit', 'withdraw', 'close', 'summary', 'history', 'accounts', 'portfolio', 'shell'];

function spec(
  name: SubcommandName,
  side: SubcommandSpec['side'],
  positionals: readonly string[],
  options: readonly OptionName[],
  usage: string,
  summary: string,
  example: string,
  readsJson = false,
): SubcommandSpec {
  return { name, side, positionals, options, usage, summary, example, readsJson };
}

/** The command line, or a line typed at the shell's prompt: the shell chose the store already. */
export type HelpContext = 'command line' | 'shell';

export function exitCodes(context: HelpContext = 'command line'): string {
  const shell = context === 'shell';
  return `Exit codes${shell ? ', shown as (exit code N) after a line' : ''}:
  0    done
  1    a business rule refused the command (nothing was written)
  2    bad usage or input: unknown account, customer or command, malformed amount or id,
       unknown option
  3    the event store cannot be reached${shell ? '' : ' (start it with `pnpm event-store`, or use --memory)'},
       or refused the token (none, unknown, or not for this tenant); a write may have been
       recorded: send it again with the id it printed, it is recorded once
  4    anything unexpected (--debug shows the stack trace)
  130  interrupted with Ctrl-C, which is safe: an append is all or nothing
${shell
  ? 'Ctrl-C clears the line or interrupts the command running; a second Ctrl-C on an empty\nline, Ctrl-D or `exit` leaves the shell.'
  : 'Ctrl-C is how watch ends: exit 0. In the shell, Ctrl-C clears the line or interrupts the\ncommand running; a second Ctrl-C on an empty line, Ctrl-D or `exit` leaves it: exit 0.'}`;
}

export function toolHelp(context: HelpContext = 'command line'): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.usage.length));
  const offered = context === 'shell' ? SUBCOMMANDS.filter((s) => !NOT_IN_SHELL.includes(s.name)) : SUBCOMMANDS;
  const commands = offered.map((s) => `  ${s.usage.padEnd(width)}  ${s.summary}`).join('\n');
  if (context === 'shell') {
    return `Commands, one a line:
${commands}
  ${'help [COMMAND]'.padEnd(width)}  this help, or one command's

${traceAndJsonHelp(offered.map((s) => s.name))} Any line takes --debug.
The store and tenant were chosen when the shell started.

${exitCodes(context)}
`;
  }
  return `Usage: pnpm start [-- [options] [command]]

A CQRS bank you can drive. Without a command it runs the walkthrough. Commands go to the
write side, queries are answered by the read side's read models, both over one event store.

Commands:
${commands}

Options:
  --memory         keep the event store in this process (or EVENT_STORE_MODE=memory);
                   it starts empty each run, so use \`shell\` to explore it
  --addr HOST:PORT the gRPC event store server (or EVENT_STORE_ADDR; default 127.0.0.1:50051);
                   several, separated by commas, spread the calls over servers of one database
  --tenant ID      the tenant to work in (or EVENT_STORE_TENANT; default example-tenant)
  --token TOKEN    for a server with a tokens file (or EVENT_STORE_TOKEN, which other
                   users of this machine cannot read from the process list)
  --tls            speak TLS to the server (trusting the system's CAs); setting
                   EVENT_STORE_TLS_CA=FILE trusts that CA (PEM) and turns TLS on too
  --trace          show the CQRS path: stream read, decision, append, projections, query
  --json           machine-readable output, amounts in cents and in dollars
                   ${traceAndJsonHelp(SUBCOMMANDS.map((s) => s.name)).replace('. ', '.\n                   ')}
  --debug          show stack traces of unexpected errors
  --fresh          replay the log from position 1 instead of resuming the saved read
                   models, and leave the saved files as they are (neither read nor written)
  -h, --help       this help; \`COMMAND --help\` for one command

EVENT_STORE_MODE takes memory or grpc (unset: grpc).

Each run against a server saves the read models its command reads, each with the log
position it reflects, in cqrs-bank-example under $XDG_CACHE_HOME (default ~/.cache), one
file per server, tenant and read model, so the next run reads only the newer events, and
only the files it needs. A file of another log or format is rebuilt.

Amounts are dollars with at most two decimals: 12, 12.5, 12.34 (no sign, no symbols).
Each write prints its own id (a new one unless --transaction-id, --close-id or --id gives
it): the same command sent again with that id is recorded once, answered "already recorded".
Times (--as-of) are UTC or carry their offset: 2026-11-29T18:00:00Z, 2026-11-29T19:00+01:00.
Colour only on a terminal, never with NO_COLOR set.

${exitCodes(context)}

Examples:
  pnpm start -- --memory                     the walkthrough, all in this process
  pnpm start -- --memory shell               explore with a store of your own
  pnpm start -- open --customer alice --type Checking --initial 100 --id alice-1
  pnpm start -- --trace deposit alice-1 25.00
`;
}

/** What the shell refuses to run inside itself (dispatch.ts says why when asked). */
const NOT_IN_SHELL: readonly SubcommandName[] = ['watch', 'shell'];

export function subcommandHelp(name: SubcommandName, context: HelpContext = 'command line'): string {
  const found = SUBCOMMANDS.find((s) => s.name === name);
  if (found === undefined) return toolHelp(context);
  const json = found.readsJson ? '\n  --json   machine-readable output' : '';
  const trace = TRACED.includes(found.name) ? '--trace, ' : '';
  const prefix = context === 'shell' ? '' : 'pnpm start -- ';
  const options = context === 'shell'
    ? `Also takes ${trace}--debug.`
    : `Also takes the tool's options (--memory, --addr, --tenant, --token, --tls, ${trace}--debug, --fresh).`;
  return `Usage: ${prefix}${found.usage}

${found.summary} (${found.side}).
${options}${json}

Example:
  ${prefix}${found.example}

${exitCodes(context)}
`;
}

/** Which commands --trace and --json apply to, said from the table the parser checks. */
function traceAndJsonHelp(names: readonly SubcommandName[]): string {
  const traced = names.filter((name) => TRACED.includes(name));
  const json = names.filter((name) => SUBCOMMANDS.some((s) => s.name === name && s.readsJson));
  return `--trace applies to ${traced.join(', ')}. --json to ${json.join(', ')}.`;
}
