// The command line's grammar: which subcommands exist, what each takes, and how argv becomes
// a typed Invocation. Everything a person can type is checked here, before any store is
// touched, so a malformed command can never write anything.

import { parseArgs } from 'node:util';
import { unreachable } from '../domain/bank-account.ts';
import { parseAmount, InvalidAmountError } from '../domain/money.ts';
import { didYouMean } from './did-you-mean.ts';
import { SUBCOMMANDS, TRACED } from './help.ts';
import type { OptionName, SubcommandName } from './help.ts';
import { checkOptions, NEGATIVE, noSign } from './option-mistakes.ts';
import { UsageError } from './usage-error.ts';

export interface GlobalOptions {
  readonly memory: boolean;
  readonly addr: string | undefined;
  readonly tenant: string | undefined;
  readonly trace: boolean;
  readonly json: boolean;
  readonly debug: boolean;
  /** Replay the log instead of resuming the saved read models, and save none. */
  readonly fresh: boolean;
  /** For a server with a tokens file; EVENT_STORE_TOKEN otherwise. */
  readonly token: string | undefined;
  /** Speak TLS to the server (also on when EVENT_STORE_TLS_CA names a CA). */
  readonly tls: boolean;
}

/** A read model as it stood after a log position, or at a moment in time. */
export type AsOf = { readonly position: number } | { readonly timeMs: number; readonly time: string };

export type Invocation =
  | { readonly command: 'walkthrough' }
  | { readonly command: 'help'; readonly topic?: SubcommandName }
  | { readonly command: 'open'; readonly accountId?: string; readonly customerId: string; readonly accountType: string; readonly initialBalanceCents: number }
  | { readonly command: 'deposit' | 'withdraw'; readonly accountId: string; readonly amountCents: number; readonly description: string; readonly transactionId?: string }
  | { readonly command: 'close'; readonly accountId: string; readonly reason: string; readonly closeId?: string }
  | { readonly command: 'summary' | 'history'; readonly accountId: string; readonly asOf?: AsOf }
  | { readonly command: 'accounts'; readonly customerId: string }
  | { readonly command: 'portfolio'; readonly customerId: string; readonly asOf?: AsOf }
  | { readonly command: 'events'; readonly accountId?: string }
  | { readonly command: 'watch' | 'rebuild' | 'shell' };

const OPTIONS = {
  memory: { type: 'boolean' },
  addr: { type: 'string' },
  tenant: { type: 'string' },
  trace: { type: 'boolean' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  fresh: { type: 'boolean' },
  token: { type: 'string' },
  tls: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  customer: { type: 'string' },
  type: { type: 'string' },
  initial: { type: 'string' },
  id: { type: 'string' },
  description: { type: 'string' },
  reason: { type: 'string' },
  'as-of': { type: 'string' },
  'transaction-id': { type: 'string' },
  'close-id': { type: 'string' },
} as const satisfies Record<OptionName, { type: 'boolean' | 'string'; short?: string }>;

const GLOBAL_OPTIONS: readonly OptionName[] = ['memory', 'addr', 'tenant', 'trace', 'json', 'debug', 'fresh', 'token', 'tls', 'help'];

/** An account id: what a stream can be named by, readable in a terminal and a URL. */
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

export function parseCommandLine(argv: readonly string[]): { global: GlobalOptions; invocation: Invocation } {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const subcommand = SUBCOMMANDS.find((spec) => args.includes(spec.name))?.name;
  checkOptions(args, { options: OPTIONS, accepted: (command) => [...GLOBAL_OPTIONS, ...specOf(command).options], command: subcommand });
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}`, subcommand);
  }
  const { values, positionals } = parsed;
  for (const option of ['addr', 'tenant', 'token'] as const) {
    if (values[option]?.trim() === '') throw new UsageError(`--${option} needs a value`);
  }
  const global: GlobalOptions = {
    memory: values.memory === true,
    addr: values.addr,
    tenant: values.tenant,
    trace: values.trace === true,
    json: values.json === true,
    debug: values.debug === true,
    fresh: values.fresh === true,
    token: values.token,
    tls: values.tls === true,
  };
  const [name, ...rest] = positionals;
  if (name === undefined && global.trace && values.help !== true) throw new UsageError('the walkthrough does not take --trace: it prints each step itself');
  if (name === undefined) return { global, invocation: values.help ? { command: 'help' } : { command: 'walkthrough' } };
  if (name === 'help') return { global, invocation: { command: 'help', ...(rest[0] === undefined ? {} : { topic: subcommandNamed(rest[0]) }) } };

  const spec = SUBCOMMANDS.find((candidate) => candidate.name === name);
  if (spec === undefined) throw new UsageError(`unknown command "${name}"${commandHint(name)}`);
  if (values.help) return { global, invocation: { command: 'help', topic: spec.name } };

  for (const option of Object.keys(values) as OptionName[]) {
    if (!GLOBAL_OPTIONS.includes(option) && !spec.options.includes(option)) {
      throw new UsageError(`${spec.name} does not take --${option}`, spec.name);
    }
  }
  if (global.json && !spec.readsJson) throw new UsageError(`${spec.name} does not take --json`, spec.name);
  if (global.trace && !TRACED.includes(spec.name)) throw new UsageError(`${spec.name} does not take --trace`, spec.name);
  const required = spec.positionals.filter((positional) => !positional.startsWith('['));
  if (rest.length < required.length) {
    throw new UsageError(`${spec.name} needs ${required.join(' and ')}`, spec.name);
  }
  if (rest.length > spec.positionals.length) {
    throw new UsageError(`${spec.name} takes ${spec.positionals.join(' ') || 'no arguments'}; unexpected "${rest[spec.positionals.length]}"`, spec.name);
  }
  return { global, invocation: invocationOf(spec.name, rest, values) };
}

type Values = { readonly [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };

function invocationOf(command: SubcommandName, rest: readonly string[], values: Values): Invocation {
  const text = (option: 'customer' | 'type' | 'description' | 'reason'): string | undefined => values[option];
  switch (command) {
    case 'open': {
      const customerId = required(text('customer'), '--customer', command);
      const accountType = required(text('type'), '--type', command);
      const initialBalanceCents = amount(required(values.initial, '--initial', command), command);
      const accountId = values.id === undefined ? undefined : accountIdOf(values.id, command);
      return { command, customerId, accountType, initialBalanceCents, ...(accountId === undefined ? {} : { accountId }) };
    }
    case 'deposit':
    case 'withdraw': {
      const transactionId = givenId(values['transaction-id'], '--transaction-id', command);
      const money = { accountId: accountIdOf(rest[0], command), amountCents: amount(rest[1], command), description: text('description') ?? '' };
      return { command, ...money, ...(transactionId === undefined ? {} : { transactionId }) };
    }
    case 'close': {
      const closeId = givenId(values['close-id'], '--close-id', command);
      return { command, accountId: accountIdOf(rest[0], command), reason: text('reason') ?? '', ...(closeId === undefined ? {} : { closeId }) };
    }
    case 'summary':
    case 'history': {
      const asOf = values['as-of'] === undefined ? undefined : asOfOf(values['as-of'], command);
      return { command, accountId: accountIdOf(rest[0], command), ...(asOf === undefined ? {} : { asOf }) };
    }
    case 'accounts':
      return { command, customerId: required(text('customer'), '--customer', command) };
    case 'portfolio': {
      const asOf = values['as-of'] === undefined ? undefined : asOfOf(values['as-of'], command);
      return { command, customerId: required(rest[0], 'CUSTOMER', command), ...(asOf === undefined ? {} : { asOf }) };
    }
    case 'events':
      return { command, ...(rest[0] === undefined ? {} : { accountId: accountIdOf(rest[0], command) }) };
    case 'watch':
    case 'rebuild':
    case 'shell':
      return { command };
    default:
      return unreachable(command);
  }
}

function required(value: string | undefined, option: string, command: SubcommandName): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${command} needs ${option}`, command);
  return value;
}

function amount(input: string | undefined, command: SubcommandName): number {
  if (input !== undefined && NEGATIVE.test(input)) throw new UsageError(noSign(input, command), command);
  try {
    return parseAmount(input ?? '');
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new UsageError(error.message, command);
    throw error;
  }
}

function accountIdOf(input: string | undefined, command: SubcommandName): string {
  if (input === undefined || !ACCOUNT_ID.test(input)) {
    throw new UsageError(
      `"${input ?? ''}" is not an account id: use 1 to 100 letters, digits, and . _ : - (starting with a letter or digit)`,
      command,
    );
  }
  return input;
}

/** A transaction or close id, given to send a command again safely: the same form as an account id. */
function givenId(input: string | undefined, option: '--transaction-id' | '--close-id', command: SubcommandName): string | undefined {
  if (input !== undefined && !ACCOUNT_ID.test(input)) {
    throw new UsageError(`${option} "${input}" is not an id: use 1 to 100 letters, digits, and . _ : - (starting with a letter or digit)`, command);
  }
  return input;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/i;
const ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/** Times need a zone: without one, Date.parse reads local time, yet every time shown is UTC. */
function asOfOf(input: string, command: SubcommandName): AsOf {
  if (/^\d+$/.test(input)) return { position: Number(input) };
  const zoned = ZONE.test(input) && TIME.test(input.replace(ZONE, ''));
  const timeMs = zoned ? Date.parse(input) : Number.NaN;
  if (!Number.isNaN(timeMs)) return { timeMs, time: new Date(timeMs).toISOString() };
  if (TIME.test(input)) {
    throw new UsageError(`--as-of ${input} has no time zone, and every time shown here is UTC: write ${input}Z for UTC, or add the offset, like ${input}+01:00`, command);
  }
  if (DATE.test(input)) throw new UsageError(`--as-of ${input} needs a time and zone too, like ${input}T00:00:00Z (midnight UTC)`, command);
  throw new UsageError(`--as-of takes a log position (like 42) or an ISO 8601 time with its zone (like 2026-11-29T18:00:00Z), not "${input}"`, command);
}

function subcommandNamed(name: string): SubcommandName {
  const spec = SUBCOMMANDS.find((candidate) => candidate.name === name);
  if (spec === undefined) throw new UsageError(`no help on "${name}"${commandHint(name)}`);
  return spec.name;
}

function commandHint(name: string): string {
  const meant = didYouMean(name, [...SUBCOMMANDS.map((s) => s.name), 'help']);
  return meant === undefined ? `; the commands are ${SUBCOMMANDS.map((s) => s.name).join(', ')}` : `; did you mean ${meant}?`;
}

function specOf(name: SubcommandName): (typeof SUBCOMMANDS)[number] {
  const spec = SUBCOMMANDS.find((candidate) => candidate.name === name);
  if (spec === undefined) throw new Error(`no subcommand ${name} in the table`);
  return spec;
}
