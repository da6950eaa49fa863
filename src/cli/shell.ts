// `shell`: an interactive prompt over one session, so a `--memory` store lives as long as
// the shell and a newcomer can drive the bank command by command. Readline gives it line
// editing, history (up arrow) and tab completion of commands and their options.

import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { SUBCOMMANDS } from './help.ts';
import { UsageError } from './arguments.ts';
import { EXIT } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { Output } from './terminal.ts';

const LEAVE = new Set(['exit', 'quit']);

export async function runShell(
  out: Output,
  storeDescription: string,
  runWords: (words: string[]) => Promise<ExitCode>,
  stop: AbortSignal,
): Promise<ExitCode> {
  const prompt = out.style.cyan('bank> ');
  const lines = createInterface({ input: process.stdin, output: process.stdout, completer, terminal: out.interactive, historySize: 500, prompt });
  // Ctrl-C (readline's own on a terminal, a SIGINT otherwise) ends the shell: at the prompt
  // quietly, during a command at once, as outside the shell. An append is all or nothing,
  // so stopping mid-command loses or half-writes nothing.
  let running = false;
  const interrupt = (): void => {
    if (running) process.exit(130);
    lines.close();
  };
  lines.on('SIGINT', interrupt);
  stop.addEventListener('abort', interrupt, { once: true });
  out.line(`Event store: ${storeDescription}. Type a command (\`help\` lists them), \`exit\` or Ctrl-D to leave.`);
  showPrompt(lines, out);
  for await (const line of lines) {
    let words: string[];
    try {
      words = splitWords(line);
    } catch (error) {
      out.problem(`error: ${error instanceof Error ? error.message : String(error)}`);
      showPrompt(lines, out);
      continue;
    }
    if (words.length === 1 && LEAVE.has(words[0]!)) break;
    if (words.length > 0) {
      running = true;
      const code = await runWords(words).finally(() => (running = false));
      if (code !== EXIT.done) out.line(out.style.dim(`(exit code ${code})`));
    }
    showPrompt(lines, out);
  }
  lines.close();
  // Left open, a standard input that is a pipe would keep the process alive after `exit`.
  process.stdin.destroy();
  return EXIT.done;
}

function showPrompt(lines: Interface, out: Output): void {
  if (out.interactive) lines.prompt();
}

/** Splits a line into words as a POSIX shell would for quotes and backslashes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word = `${word ?? ''}${line[++i]}`;
      else word = `${word ?? ''}${char}`;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== undefined) throw new UsageError(`unclosed ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Whole words, each with the space that follows it, as a shell completes them. */
function completer(line: string): [string[], string] {
  const [matches, current] = candidates(line);
  return [matches.map((match) => `${match} `), current];
}

function candidates(line: string): [string[], string] {
  const words = line.split(/\s+/);
  const current = words.at(-1) ?? '';
  if (words.length <= 1) {
    const names = [...SUBCOMMANDS.map((s) => s.name), 'help', 'exit'];
    return [names.filter((name) => name.startsWith(current)), current];
  }
  const spec = SUBCOMMANDS.find((s) => s.name === words[0]);
  const options = [...(spec?.options ?? []), 'trace', ...(spec?.readsJson ? ['json'] : []), 'help'].map((option) => `--${option}`);
  return [current.startsWith('-') ? options.filter((option) => option.startsWith(current)) : [], current];
}
