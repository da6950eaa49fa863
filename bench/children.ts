// Bench support: the other processes a run needs (the event store server as `pnpm event-store`
// runs it, the bare echo server, the memory probe, the CLI), each tracked from spawn to exit
// so none outlives the bench, also when a row fails or the bench is interrupted.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const running = new Set<ChildProcess>();

// The last resort, for a bench that throws past its finally blocks or calls process.exit:
// 'exit' handlers run synchronously, and kill() is synchronous.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ListeningChild {
  readonly address: string;
  readonly process: ChildProcess;
  /** Everything it printed so far, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it is still there after a few seconds; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeFlags] --import tsx script` with BIND_ADDR=127.0.0.1:0 and resolves once
 * it prints "listening on 127.0.0.1:PORT" (as src/server/main.ts does).
 */
export function startListeningChild(options: {
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly nodeFlags?: readonly string[];
  /** An IPC channel, for a child that answers messages (the memory probe). */
  readonly ipc?: boolean;
}): Promise<ListeningChild> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', options.script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', BIND_ADDR: '127.0.0.1:0', ...options.env },
    stdio: options.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = once(child, 'exit').then(() => running.delete(child));
  let output = '';
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(late);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${options.script} did not start listening within 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // Keep only the tail: a long-running server's log must not grow the bench's heap.
      if (output.length > 20_000) output = output.slice(-10_000);
      const listening = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (listening?.[1] === undefined) return;
      clearTimeout(timer);
      resolve({ address: listening[1], process: child, output: () => output, stop });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** The event store server, exactly as `pnpm event-store` starts it, with these variables. */
export function startEventStoreServer(env: Readonly<Record<string, string>>): Promise<ListeningChild> {
  return startListeningChild({ script: 'src/server/main.ts', env });
}

/** Sends one message over the child's IPC channel and resolves with its first reply. */
export async function ask(child: ListeningChild, message: object, timeoutMs = 120_000): Promise<unknown> {
  const replied = once(child.process, 'message', { signal: AbortSignal.timeout(timeoutMs) });
  child.process.send(message);
  const [reply] = await replied;
  return reply;
}

export interface Finished {
  readonly code: number | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --import tsx script args` to its end and times it, as a person at a terminal would. */
export function runScript(script: string, args: readonly string[], env: Readonly<Record<string, string>>, timeoutMs = 180_000): Promise<Finished> {
  const began = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, wallMs: performance.now() - began, stdout, stderr });
    });
  });
}

/** Stops every child still running: the bench's finally block. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await once(child, 'exit').catch(() => undefined);
    clearTimeout(late);
  }));
}
