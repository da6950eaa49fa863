// What Node's parseArgs would refuse in its own words, said in the bank's: a negative amount
// (which parseArgs takes for an unknown option `-5`), an option without its value, and an
// unknown option, with the nearest known one. arguments.ts runs this before parsing.

import { parseArgs } from 'node:util';
import { didYouMean } from './did-you-mean.ts';
import type { OptionName, SubcommandName } from './help.ts';
import { UsageError } from './usage-error.ts';

/** A negative number, such as `-5` or `-12.50`. */
export const NEGATIVE = /^-\d/;

export interface OptionGrammar {
  readonly options: Readonly<Record<OptionName, { readonly type: 'boolean' | 'string'; readonly short?: string }>>;
  /** The options a subcommand takes, its own and the tool's. */
  readonly accepted: (command: SubcommandName) => readonly OptionName[];
  readonly command: SubcommandName | undefined;
}

/**
 * Reads the options as parseArgs does but without its strictness, and refuses the first
 * mistake with what is wrong and what to type instead. parseArgs's own messages mislead
 * here: "-5" is an "unknown option", to be placed "after '--'".
 */
export function checkOptions(args: readonly string[], grammar: OptionGrammar): void {
  const { options, command } = grammar;
  const { tokens } = parseArgs({ args: [...args], options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!isOptionName(options, token.name)) {
      const typed = args[token.index] ?? token.rawName;
      if (NEGATIVE.test(typed)) throw new UsageError(noSign(typed, command), command);
      const meant = didYouMean(token.name, command === undefined ? Object.keys(options) : grammar.accepted(command));
      throw new UsageError(`unknown option ${token.rawName}${meant === undefined ? '' : `; did you mean --${meant}?`}`, command);
    }
    const option = `--${token.name}`;
    if (options[token.name].type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${option} takes no value`, command);
    } else if (token.value === undefined) {
      throw new UsageError(`${option} needs a value`, command);
    } else if (!token.inlineValue && token.value.startsWith('-')) {
      // What follows --token may be the token itself, a secret: never repeat it.
      if (token.name === 'token') throw new UsageError('--token needs a value; for a token that starts with "-", write --token=TOKEN', command);
      if (token.name === 'initial' && NEGATIVE.test(token.value)) throw new UsageError(noSign(token.value, 'open'), command);
      if (token.value.startsWith('--')) throw new UsageError(`${option} needs a value before ${token.value}`, command);
      throw new UsageError(`${option} needs a value, not "${token.value}"; for a value that starts with "-", write ${option}=${token.value}`, command);
    }
  }
}

function isOptionName(options: OptionGrammar['options'], name: string): name is OptionName {
  return Object.hasOwn(options, name);
}

/** Amounts have no sign: which way the money goes is the command's to say. */
export function noSign(typed: string, command: SubcommandName | undefined): string {
  const instead = command === 'deposit'
    ? '; to take money out, use withdraw'
    : command === 'withdraw'
      ? '; withdraw takes the amount as it is, like withdraw ACCOUNT 5.00'
      : command === 'open'
        ? ', and an account opens with 0 or more'
        : '';
  return `"${typed}" is not an amount: amounts have no sign${instead}`;
}
