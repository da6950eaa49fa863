// What a person typed, refused in the bank's words before anything runs: the mistakes Node's
// parseArgs would word misleadingly, typos with the name most likely meant, and times that
// would silently be read as local time.

import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/arguments.ts';
import { didYouMean } from '../../src/cli/did-you-mean.ts';
import { UsageError } from '../../src/cli/usage-error.ts';

describe('amounts have no sign', () => {
  it.each<[string, string[], RegExp]>([
    ['a negative deposit', ['deposit', 'acc-1', '-5'], /"-5" is not an amount: amounts have no sign; to take money out, use withdraw/],
    ['a negative deposit with cents', ['deposit', 'acc-1', '-5.25'], /"-5\.25" is not an amount: amounts have no sign; to take money out, use withdraw/],
    ['a negative withdrawal', ['withdraw', 'acc-1', '-5'], /"-5" is not an amount: amounts have no sign; withdraw takes the amount as it is/],
    ['a negative amount after --', ['deposit', 'acc-1', '--', '-5'], /"-5" is not an amount: amounts have no sign/],
    ['a negative initial balance', ['open', '--customer', 'a', '--type', 'T', '--initial', '-5'], /"-5" is not an amount: amounts have no sign, and an account opens with 0 or more/],
    ['a negative initial balance after =', ['open', '--customer', 'a', '--type', 'T', '--initial=-5'], /"-5" is not an amount: amounts have no sign, and an account opens with 0 or more/],
  ])('refuses %s, saying so', (_, argv, message) => {
    expect(usageErrorOf(argv)).toMatch(message);
  });

  it("never passes on parseArgs's own words", () => {
    for (const argv of [['deposit', 'x', '-5'], ['open', '--customer', 'a', '--type', 'T', '--initial', '-5'], ['deposit', 'x', '5', '--description', '-x']]) {
      expect(usageErrorOf(argv)).not.toMatch(/ambiguous|place it at the end|Unknown option/);
    }
  });
});

describe('options', () => {
  it.each<[string, string[], string]>([
    ['a prefix of an option', ['deposit', 'acc-1', '5', '--desc', 'x'], 'unknown option --desc; did you mean --description?'],
    ['a slip in an option', ['--tenat', 't', 'summary', 'acc-1'], 'unknown option --tenat; did you mean --tenant?'],
    ['an option like no other', ['deposit', 'acc-1', '5', '--colour'], 'unknown option --colour'],
    ['an option without its value', ['open', '--customer'], '--customer needs a value'],
    ['an option followed by another', ['open', '--customer', '--type', 'T'], '--customer needs a value before --type'],
    ['a value on a switch', ['--memory=yes', 'summary', 'acc-1'], '--memory takes no value'],
  ])('refuses %s', (_, argv, message) => {
    expect(usageErrorOf(argv)).toBe(message);
  });

  it('suggests only what the command takes', () => {
    expect(usageErrorOf(['close', 'acc-1', '--custome', 'x'])).toBe('unknown option --custome');
  });
});

describe('commands', () => {
  it.each([
    [['depost', 'acc-1', '5'], 'unknown command "depost"; did you mean deposit?'],
    [['histroy', 'acc-1'], 'unknown command "histroy"; did you mean history?'],
    [['portfolo', 'alice'], 'unknown command "portfolo"; did you mean portfolio?'],
    [['help', 'portfollio'], 'no help on "portfollio"; did you mean portfolio?'],
    [['help', 'sumary'], 'no help on "sumary"; did you mean summary?'],
  ])('offers the command meant for %j', (argv, message) => {
    expect(usageErrorOf(argv)).toBe(message);
  });

  it('lists the commands when nothing is near', () => {
    expect(usageErrorOf(['frobnicate'])).toMatch(/^unknown command "frobnicate"; the commands are open, deposit, /);
  });
});

describe('--as-of', () => {
  it.each([
    ['2026-11-30T03:37Z', '2026-11-30T03:37:00.000Z'],
    ['2026-11-30T03:37:00.250Z', '2026-11-30T03:37:00.250Z'],
    ['2026-11-30T04:37+01:00', '2026-11-30T03:37:00.000Z'],
    ['2026-11-29T22:37:00-0500', '2026-11-30T03:37:00.000Z'],
  ])('takes %s as %s', (input, time) => {
    const { invocation } = parseCommandLine(['summary', 'acc-1', '--as-of', input]);
    expect(invocation).toMatchObject({ asOf: { time, timeMs: Date.parse(time) } });
  });

  it('takes a log position', () => {
    expect(parseCommandLine(['history', 'acc-1', '--as-of', '42']).invocation).toMatchObject({ asOf: { position: 42 } });
  });

  it.each([
    ['2026-11-30T03:37', 'has no time zone, and every time shown here is UTC: write 2026-11-30T03:37Z for UTC, or add the offset, like 2026-11-30T03:37+01:00'],
    ['2026-11-30 03:37:00', 'has no time zone'],
    ['2026-11-30', 'needs a time and zone too, like 2026-11-30T00:00:00Z'],
    ['yesterday', 'takes a log position (like 42) or an ISO 8601 time with its zone'],
    ['2026-13-45T03:37Z', 'takes a log position (like 42) or an ISO 8601 time with its zone'],
  ])('refuses %s with the fix', (input, message) => {
    expect(usageErrorOf(['summary', 'acc-1', '--as-of', input])).toContain(message);
  });
});

describe('portfolio', () => {
  it('takes the customer and an --as-of, like the other queries', () => {
    expect(parseCommandLine(['portfolio', 'alice']).invocation).toEqual({ command: 'portfolio', customerId: 'alice' });
    expect(parseCommandLine(['portfolio', 'alice', '--as-of', '3']).invocation).toEqual({ command: 'portfolio', customerId: 'alice', asOf: { position: 3 } });
  });

  it.each<[string[], string]>([
    [['portfolio'], 'portfolio needs CUSTOMER'],
    [['portfolio', ' '], 'portfolio needs CUSTOMER'],
    [['portfolio', 'alice', 'bob'], 'portfolio takes CUSTOMER; unexpected "bob"'],
    [['portfolio', 'alice', '--customer', 'bob'], 'portfolio does not take --customer'],
  ])('refuses %j', (argv, message) => {
    expect(usageErrorOf(argv)).toBe(message);
  });
});

describe('a write command\'s own id', () => {
  it('is taken from --transaction-id on deposit and withdraw, and --close-id on close', () => {
    expect(parseCommandLine(['deposit', 'acc-1', '5', '--transaction-id', 'tx-1']).invocation).toMatchObject({ command: 'deposit', transactionId: 'tx-1' });
    expect(parseCommandLine(['withdraw', 'acc-1', '5', '--transaction-id', 'tx-2']).invocation).toMatchObject({ command: 'withdraw', transactionId: 'tx-2' });
    expect(parseCommandLine(['close', 'acc-1', '--close-id', 'c-1']).invocation).toMatchObject({ command: 'close', closeId: 'c-1' });
    expect(parseCommandLine(['deposit', 'acc-1', '5']).invocation).not.toHaveProperty('transactionId');
  });
  it('is refused when it is not an id, or given to a command that has none', () => {
    expect(() => parseCommandLine(['deposit', 'acc-1', '5', '--transaction-id', 'tx 1'])).toThrow('--transaction-id "tx 1" is not an id');
    expect(() => parseCommandLine(['summary', 'acc-1', '--transaction-id', 'tx-1'])).toThrow(UsageError);
    expect(() => parseCommandLine(['deposit', 'acc-1', '5', '--close-id', 'c-1'])).toThrow('deposit does not take --close-id');
  });
});

describe('didYouMean', () => {
  const names = ['open', 'deposit', 'withdraw', 'close', 'summary', 'history', 'accounts', 'portfolio', 'events', 'watch', 'rebuild', 'shell', 'help'];

  it.each([
    ['depost', 'deposit'],
    ['DEPOSIT', 'deposit'],
    ['withdrew', 'withdraw'],
    ['acounts', 'accounts'],
    ['portfolios', 'portfolio'],
    ['reb', 'rebuild'],
    ['evnets', 'events'],
    ['hel', 'help'],
  ])('%s → %s', (typed, meant) => {
    expect(didYouMean(typed, names)).toBe(meant);
  });

  it.each(['frobnicate', 'x', '', 's'])('offers nothing for %j rather than a guess', (typed) => {
    expect(didYouMean(typed, names)).toBeUndefined();
  });
});

// ---- fixtures -------------------------------------------------------------------------

function usageErrorOf(argv: readonly string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`${argv.join(' ')} was taken`);
}

describe('how to reach a protected server', () => {
  it('takes --token and --tls with any command, and refuses an empty token', () => {
    expect(parseCommandLine(['--token', 'secret-token-123456', '--tls', 'summary', 'acc-1']).global).toMatchObject({ token: 'secret-token-123456', tls: true });
    expect(parseCommandLine(['summary', 'acc-1']).global).toMatchObject({ token: undefined, tls: false });
    expect(usageErrorOf(['--token', '', 'summary', 'acc-1'])).toBe('--token needs a value');
  });

  it('never repeats what follows --token, which may be the token itself', () => {
    for (const typed of ['-s3cret-token-123456', '--s3cret-token-123456']) {
      expect(usageErrorOf(['--token', typed, 'summary', 'acc-1'])).toBe('--token needs a value; for a token that starts with "-", write --token=TOKEN');
    }
    expect(parseCommandLine(['--token=-s3cret-token-123456', 'summary', 'acc-1']).global).toMatchObject({ token: '-s3cret-token-123456' });
  });
});
