// Test support: a command run on a pseudo-terminal (util-linux `script`), as a person runs
// it at a prompt, so Ctrl-C is a key that readline reads rather than a signal. A test reads
// the output in order, waiting for each expected text, never for a length of time.

import { spawn, spawnSync } from 'node:child_process';
import { killGroup, PROJECT_ROOT } from './child-process.ts';
import { until } from './until.ts';

export interface Terminal {
  /** Keys as the terminal sends them: `\r` for Enter, `\x03` for Ctrl-C, `\x04` for Ctrl-D. */
  type(keys: string): void;
  /** Waits until `text` appears after the last text expected, and moves past it. */
  expect(text: string | RegExp): Promise<void>;
  /** Everything shown so far, without the terminal's control sequences. */
  screen(): string;
  /** How the command ended; the process group is gone by then. */
  readonly exited: Promise<number | null>;
  /** Kills the whole process group, whatever state it is in. */
  kill(): void;
}

/** Whether util-linux `script` is here to give a command a pseudo-terminal. */
export const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') === true;

export function onTerminal(args: readonly string[], env: NodeJS.ProcessEnv = {}): Terminal {
  const command = args.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
  // -e: exit with the command's code; -f: pass output on at once; -q: no banner.
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let raw = '';
  child.stdout.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  child.stdin.on('error', () => {}); // keys typed after the end go nowhere, harmlessly
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let read = 0;
  const screen = (): string => raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  return {
    type: (keys) => void child.stdin.write(keys),
    expect: async (text) => {
      const find = (): number | undefined => {
        const rest = screen().slice(read);
        if (typeof text === 'string') return rest.includes(text) ? rest.indexOf(text) + text.length : undefined;
        const match = text.exec(rest);
        return match === null ? undefined : match.index + match[0].length;
      };
      await until(() => find() !== undefined, () => `${String(text)} after:\n${screen().slice(read)}\n(all of it:\n${screen()})`, 30_000);
      read += find() ?? 0;
    },
    screen,
    exited,
    kill: () => killGroup(child.pid),
  };
}
