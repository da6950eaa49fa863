// A quiet terminal: text from the log or the command line is shown, never obeyed. Every
// control character in a line, a problem or a status comes out escaped; JSON escapes its own.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { oneLine, terminalOutput, visible } from '../../src/cli/terminal.ts';
import type { Sink } from '../../src/cli/terminal.ts';

describe('visible', () => {
  it('escapes ESC as \\e and the other control characters as \\u escapes, keeping tabs and newlines', () => {
    expect(visible('\u001b]0;PWNED\u0007\u001b[2J')).toBe('\\e]0;PWNED\\u0007\\e[2J');
    expect(visible('a\u0000b\rc\u007fd\u009be\u202ef')).toBe('a\\u0000b\\u000dc\\u007fd\\u009be\\u202ef');
    expect(visible('two\tcolumns\nand lines, naïve €')).toBe('two\tcolumns\nand lines, naïve €');
  });
  it('keeps only the CLI’s own colour sequences when colour is on', () => {
    expect(visible('\u001b[32m✓\u001b[0m \u001b[8mhidden\u001b[2J', { keepColours: true })).toBe('\u001b[32m✓\u001b[0m \\e[8mhidden\\e[2J');
    expect(visible('\u001b[32m✓\u001b[0m', { keepColours: false })).toBe('\\e[32m✓\\e[0m');
  });
});

describe('oneLine', () => {
  it('shows the line breaks inside a value, so they cannot start a line of their own', () => {
    expect(oneLine('  balance 5.00  rent\n#99 MoneyDeposited forged')).toBe('  balance 5.00  rent\\n#99 MoneyDeposited forged');
    expect(oneLine('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
    expect(oneLine('tabs\tstay, naïve €')).toBe('tabs\tstay, naïve €');
  });
});

describe('terminalOutput', () => {
  it('escapes what it prints on stdout and stderr, and leaves JSON parseable with nothing raw in it', () => {
    const [stdout, stderr] = [capture(), capture()];
    const out = terminalOutput(stdout.stream, stderr.stream, {});
    const hostile = 'acc\u001b]0;PWNED\u0007\u001b[2J\u009b31m';
    out.line(`#7 ${hostile}`);
    out.problem(`error: unknown account ${hostile}`);
    out.json({ aggregateId: hostile });
    expect(stdout.text()).not.toMatch(/[\u001b\u0007\u009b]/);
    expect(stderr.text()).toBe('error: unknown account acc\\e]0;PWNED\\u0007\\e[2J\\u009b31m\n');
    const json = stdout.text().slice(stdout.text().indexOf('{'));
    expect(JSON.parse(json)).toEqual({ aggregateId: hostile });
  });
});

function capture(): { stream: Sink; text(): string } {
  const stream = new PassThrough();
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { stream, text: () => written };
}
