// Where the CLI's words go: lines to stdout, problems to stderr, colour only on a terminal
// and never with NO_COLOR, so output pipes cleanly into files and scripts.

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

export function terminalOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
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
  return {
    style,
    interactive: stdout.isTTY === true,
    line: (text = '') => void stdout.write(`${text}\n`),
    problem: (text) => void stderr.write(`${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    status: (text) => void stdout.write(`\r\u001b[2K${text}`),
  };
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
