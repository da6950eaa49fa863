// `shell`: an interactive prompt over one session, so a `--memory` store lives as long as
// the shell and a newcomer can drive the bank command by command. Readline gives it line
// editing, history (up arrow) and tab completion of commands and their options.

import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { SUBCOMMANDS } from './help.ts';
import { UsageError } from './usage-error.ts';
import { EXIT } from './exit-codes.ts';
import type { ExitCode } from './exit-codes.ts';
import type { Output } from './terminal.ts';

const LEAVE = new Set(['exit', 'quit']);

const HOW_TO_LEAVE = '(To leave, press Ctrl-C again or Ctrl-D, or type exit)';

/**
 * Ctrl-C works as at Node's and Python's prompts: it clears the line, a second one on an
 * empty line leaves, and during a command it interrupts that command, not the shell, so a
 * `--memory` store is not lost to a stray key. Interrupting is safe: an append is all or
 * nothing. `runWords` gets a signal that aborts when its command is interrupted.
 */
export async function runShell(
  out: Output,
  storeDescription: string,
  runWords: (words: string[], interrupted: AbortSignal) => Promise<ExitCode>,
  stop: AbortSignal,
): Promise<ExitCode> {
  const prompt = out.style.cyan('bank> ');
  const lines = createInterface({ input: process.stdin, output: process.stdout, completer, terminal: out.interactive, historySize: 500, prompt });
  let running: AbortController | undefined;
  /** The last key was a Ctrl-C on an empty line, which said how to leave: the next one leaves. */
  let warned = false;
  // Readline reports Ctrl-C on a terminal; a SIGINT comes when input is not a terminal.
  const interrupt = (): void => {
    if (running !== undefined) return running.abort();
    const typed = lines.line;
    if (out.interactive) abandonLine(lines, out);
    if (typed === '' && warned) return lines.close();
    warned = typed === '';
    if (warned) out.line(HOW_TO_LEAVE);
    showPrompt(lines, out);
  };
  const onKeypress = (_: string, key: { ctrl?: boolean; name?: string } | undefined): void => {
    if (key?.ctrl !== true || key.name !== 'c') warned = false;
  };
  const onStop = (): void => {
    running?.abort();
    lines.close();
  };
  lines.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
  if (out.interactive) process.stdin.on('keypress', onKeypress);
  stop.addEventListener('abort', onStop, { once: true });
  try {
    out.line(`Event store: ${storeDescription}. Type a command (\`help\` lists them), \`exit\` or Ctrl-D to leave.`);
    showPrompt(lines, out);
    for await (const line of lines) {
      warned = false;
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
        running = new AbortController();
        const code = await untilInterrupted(runWords(words, running.signal), running.signal).finally(() => (running = undefined));
        if (code === EXIT.interrupted) out.problem(interruptedMessage(words));
        if (code !== EXIT.done) out.line(out.style.dim(`(exit code ${code})`));
      }
      showPrompt(lines, out);
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.stdin.off('keypress', onKeypress);
    stop.removeEventListener('abort', onStop);
    lines.close();
  }
  // Left open, a standard input that is a pipe would keep the process alive after `exit`.
  process.stdin.destroy();
  return EXIT.done;
}

/** The command's own code, or 130 as soon as it is interrupted; its later output is the caller's to mute. */
function untilInterrupted(command: Promise<ExitCode>, interrupted: AbortSignal): Promise<ExitCode> {
  const aborted = new Promise<ExitCode>((resolve) => interrupted.addEventListener('abort', () => resolve(EXIT.interrupted), { once: true }));
  return Promise.race([command, aborted]);
}

function interruptedMessage(words: readonly string[]): string {
  const spec = SUBCOMMANDS.find((candidate) => words.includes(candidate.name));
  const name = spec?.name ?? words[0];
  return spec?.side === 'write side'
    ? `interrupted: ${name}. An append is all or nothing: its events are in the log whole or not at all (\`events\` shows which).`
    : `interrupted: ${name}.`;
}

/**
 * Leaves what was typed on screen, marked ^C as a shell does, and empties readline's line:
 * Ctrl-E and Ctrl-U redraw the prompt with nothing after it, then the text is written back.
 */
function abandonLine(lines: Interface, out: Output): void {
  const typed = lines.line;
  lines.write(null, { ctrl: true, name: 'e' });
  lines.write(null, { ctrl: true, name: 'u' });
  out.line(`${typed}^C`);
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
