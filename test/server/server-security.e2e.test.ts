// The server process's protection as an operator meets it: the tokens file read again on
// SIGHUP (and kept when the new one is broken), no token ever in its output, and no start
// beyond loopback without tokens.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { UnauthenticatedError } from '../../src/event-store/errors.ts';
import type { EventStore } from '../../src/event-store/event-store.ts';
import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { account, newEvent, newTenant } from '../event-store/contract.ts';
import { run } from '../support/child-process.ts';
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
