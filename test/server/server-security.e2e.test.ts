// The server process's protection as an operator meets it: the tokens file read again on
// SIGHUP (and kept when the new one is broken), no token ever in its output, and no start
// beyond loopback without tokens.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { UnauthenticatedError } from '../../src/event-store/errors.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { PROJECT_ROOT, run } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';
import { until } from '../support/until.ts';

describe('the server process with a tokens file', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'event-store-security-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('reads the file again on SIGHUP, keeps the old tokens when the new file is broken, and never prints a token', async () => {
    const tenantId = newTenant();
    const first = `first-${uuidv7()}`;
    const second = `second-${uuidv7()}`;
    const file = join(directory, 'tokens');
    await writeFile(file, `${first} ${tenantId}\n`);
    const server = await startServerProcess({ EVENT_STORE_TOKENS_FILE: file });
    const clients: EventStore[] = [];
    const client = async (token: string): Promise<EventStore> => {
      const store = await GrpcEventStore.connect({ address: server.address, token });
      clients.push(store);
      return store;
    };
    const appendWith = async (token: string, aggregateId: string) =>
      (await client(token)).append({ tenantId, stream: account(aggregateId), expectedVersion: 0, events: [newEvent()] });
    try {
      await until(() => server.output().includes(`tokens: 1 from ${file}`), 'the tokens notice');
      await appendWith(first, 'acc-1');

      await writeFile(file, `# rotated\n${second} *\n`);
      server.signal('SIGHUP');
      await until(() => server.output().includes(`tokens file reloaded: 1 tokens from ${file}`), () => `the reload in:\n${server.output()}`);
      await expect(appendWith(first, 'acc-2')).rejects.toThrow(UnauthenticatedError);
      await appendWith(second, 'acc-3');

      await writeFile(file, `${second}\n`);
      server.signal('SIGHUP');
      await until(() => server.output().includes('tokens file NOT reloaded, the 1 tokens in force stay'), () => `the refused reload in:\n${server.output()}`);
      expect(server.output()).toContain(`${file} line 1: expected TOKEN TENANT`);
      await appendWith(second, 'acc-4');

      for (const token of [first, second]) expect(server.output()).not.toContain(token);
    } finally {
      await Promise.all(clients.map((store) => store.close()));
      expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it('started as `pnpm event-store`, names the pid to signal, its one node process, and reloads on SIGHUP to it', async () => {
    const tenantId = newTenant();
    const first = `first-${uuidv7()}`;
    const second = `second-${uuidv7()}`;
    const file = join(directory, 'tokens-of-pnpm');
    await writeFile(file, `${first} ${tenantId}\n`, { mode: 0o600 });
    // Its own session, so the processes pnpm starts can be listed, and all be stopped.
    const pnpm = spawn('pnpm', ['event-store'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: '1', BIND_ADDR: '127.0.0.1:0', EVENT_STORE_TOKENS_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    pnpm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    pnpm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => pnpm.once('exit', resolve));
    const session = async (): Promise<string[]> => (await run('ps', ['-o', 'pid=,comm=', '-s', String(pnpm.pid)])).stdout.trim().split('\n');
    let serverPid: number | undefined;
    try {
      await until(() => /kill -HUP \d+/.test(output) && /listening on 127\.0\.0\.1:\d+/.test(output), () => `the pid to signal in:\n${output}`);
      serverPid = Number(/kill -HUP (\d+)/.exec(output)?.[1]);
      const address = /listening on (127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? expect.fail(output);
      // No wrapper of its own (tsx's would die on SIGHUP): the one node process is the server.
      const nodes = (await session()).map((line) => line.trim().split(/\s+/)).filter(([, command]) => command === 'node');
      expect(nodes.map(([pid]) => Number(pid))).toEqual([serverPid]);

      await writeFile(file, `${second} ${tenantId}\n`);
      process.kill(serverPid, 'SIGHUP');
      await until(() => output.includes(`tokens file reloaded: 1 tokens from ${file}`), () => `the reload in:\n${output}`);
      const store = await GrpcEventStore.connect({ address, token: second });
      try {
        await store.append({ tenantId, stream: account('acc-1'), expectedVersion: 0, events: [newEvent()] });
      } finally {
        await store.close();
      }
    } finally {
      pnpm.kill('SIGTERM');
      await exited;
      // pnpm passes SIGTERM on; should it not, the server is stopped here all the same.
      if (serverPid !== undefined && (await session()).some((line) => line.trim().startsWith(`${serverPid} `))) process.kill(serverPid, 'SIGKILL');
    }
  });

  it('will not start with a broken tokens file, naming the line and not the token', async () => {
    const file = join(directory, 'broken');
    const token = `lonely-${uuidv7()}`;
    await writeFile(file, `# fine\n${token}\n`);
    const result = await server({ EVENT_STORE_TOKENS_FILE: file });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(`event store server: ${file} line 2: expected TOKEN TENANT`);
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('will not listen beyond loopback without tokens, and says how to give them', async () => {
    const result = await server({ BIND_ADDR: '0.0.0.0:0' });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain('BIND_ADDR=0.0.0.0:0 is reachable from other machines');
    expect(result.stderr).toContain('EVENT_STORE_TOKENS_FILE=tokens pnpm event-store');
    expect(result.stdout).not.toContain('listening');
  });
});

/** The server as a command that is expected to refuse to start, so it never listens. */
function server(env: NodeJS.ProcessEnv) {
  return run(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], { env: { BIND_ADDR: '127.0.0.1:0', ...env }, timeoutMs: 30_000 });
}
