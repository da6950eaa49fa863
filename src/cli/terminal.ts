// Where the CLI's words go: lines to stdout, problems to stderr, colour only on a terminal
// and never with NO_COLOR, so output pipes cleanly into files and scripts. Every line passes
// through `visible`, so text from the log or the command line cannot drive the terminal.

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

export interface Output {
  readonly style: Style;
  /** True when stdout is a terminal a person watches (progress bars, prompts). */
  readonly interactive: boolean;
  line(text?: string): void;
  problem(text: string): void;
  json(value: unknown): void;
  /** Rewrites the current terminal line (progress); only call when interactive. */
  status(text: string): void;
}

/** What the output writes to: process.stdout and process.stderr, or a stream a test reads. */
export type Sink = Pick<NodeJS.WritableStream, 'write' | 'on'> & { readonly isTTY?: boolean };

export function terminalOutput(
  stdout: Sink = process.stdout,
  stderr: Sink = process.stderr,
  environment: NodeJS.ProcessEnv = process.env,
): Output {
  // A reader that stops early (`| head`) is not an error: stop writing, quietly.
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const colour = stdout.isTTY === true && !environment.NO_COLOR;
  const paint = (code: number) => (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const style: Style = { bold: paint(1), dim: paint(2), green: paint(32), red: paint(31), yellow: paint(33), cyan: paint(36) };
  const shown = (text: string): string => visible(text, { keepColours: colour });
  return {
    style,
    interactive: stdout.isTTY === true,
    line: (text = '') => void stdout.write(`${shown(text)}\n`),
    problem: (text) => void stderr.write(`${shown(text)}\n`),
    json: (value) => void stdout.write(`${jsonVisible(JSON.stringify(value, null, 2))}\n`),
    status: (text) => void stdout.write(`\r\u001b[2K${shown(text)}`),
  };
}

/**
 * Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides
 * that reorder what a reader sees: anything a terminal would act on instead of showing.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The only sequences this CLI writes itself: the colours of `Style`. */
const OWN_COLOURS = /(\u001b\[(?:0|1|2|31|32|33|36)m)/;

/**
 * Text made safe to print: every control character shown escaped, ESC as `\e` and the others
 * as `\u0007` and the like, so a stored aggregate id like `\e]0;PWNED\a` is read, never obeyed.
 * With colour on, the colour sequences `Style` writes are kept (text that mimics one of them
 * can only change a colour); without colour, nothing passes.
 */
export function visible(text: string, options: { readonly keepColours: boolean } = { keepColours: false }): string {
  if (!options.keepColours) return text.replace(CONTROL, escaped);
  return text.split(OWN_COLOURS).map((part, index) => (index % 2 === 1 ? part : part.replace(CONTROL, escaped))).join('');
}

/**
 * A line that is one line by construction, holding values from the log (ids, descriptions,
 * payloads another client wrote): a line break in it came from those values, and is shown
 * as `\n` so it cannot pass for a line of this CLI's own. `visible` keeps line breaks,
 * because the CLI's own messages have them.
 */
export function oneLine(text: string): string {
  return text.replace(LINE_BREAK, (character) => (character === '\n' ? '\\n' : escapedInJson(character)));
}

/** Line feed, and the separators some terminals and viewers also break lines at. */
const LINE_BREAK = /[\n\u2028\u2029]/g;

/** JSON.stringify escapes C0 already; DEL, C1 and the bidirectional overrides it leaves raw. */
function jsonVisible(json: string): string {
  return json.replace(CONTROL, escapedInJson);
}

function escaped(character: string): string {
  return character === '\u001b' ? '\\e' : escapedInJson(character);
}

function escapedInJson(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The same output, silent once `signal` aborts: for a command the shell stopped waiting for. */
export function silencedOnAbort(out: Output, signal: AbortSignal): Output {
  const unlessAborted = <A extends unknown[]>(write: (...args: A) => void) => (...args: A): void => {
    if (!signal.aborted) write(...args);
  };
  return {
    style: out.style,
    interactive: out.interactive,
    line: unlessAborted(out.line),
    problem: unlessAborted(out.problem),
    json: unlessAborted(out.json),
    status: unlessAborted(out.status),
  };
}
