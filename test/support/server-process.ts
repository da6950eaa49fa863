// Test support: the event store server (`src/server/main.ts`) as a child process of its
// own, as it runs in production, so tests can start several, kill one with SIGKILL and
// restart it. Every process started here is stopped by its handle, also when a test fails.

import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from './child-process.ts';

export interface ServerProcess {
  readonly address: string;
  readonly port: number;
  /** Everything the server printed so far, for assertion messages. */
  output(): string;
  /** Sends the signal and resolves, with how it exited, once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Sends a signal that does not stop it (SIGHUP). */
  signal(signal: NodeJS.Signals): void;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Starts a server with these environment variables on 127.0.0.1 (port 0: a free one) and
 * resolves once it says it is listening; rejects with its output if it exits or stays silent.
 */
export function startServerProcess(env: Readonly<Record<string, string>>, port = 0): Promise<ServerProcess> {
  // node itself rather than pnpm, so the pid is the server's and SIGKILL reaches it.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', BIND_ADDR: `127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`the server did not start within 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const listening = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (listening === null) return;
      clearTimeout(timer);
      const boundPort = Number(listening[1]);
      resolve({ address: `127.0.0.1:${boundPort}`, port: boundPort, output: () => output, stop, signal: (signal) => child.kill(signal) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** Stops every server a test started, whatever state each is in. */
export async function stopAll(servers: Iterable<ServerProcess>): Promise<void> {
  await Promise.all([...servers].map((server) => server.stop('SIGKILL')));
}
