// The CLI against a server with tokens and TLS, as a user sets it up: the right token and
// CA work; a wrong token, one for another tenant, or plaintext each exit 3 with a message
// that names the problem rather than a server that "cannot be reached".

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { newTenant } from '../event-store/contract.ts';
import { makeCertificate } from '../support/certificate.ts';
import type { Certificate } from '../support/certificate.ts';
import { run } from '../support/child-process.ts';
import type { Finished } from '../support/child-process.ts';
import { startServerProcess } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

const CLI_TEST_TIMEOUT_MS = 90_000;

describe('the CLI against a server with tokens and TLS', () => {
  const tenant = newTenant();
  const token = `cli-${uuidv7()}`;
  const otherTenantsToken = `other-${uuidv7()}`;
  let certificate: Certificate | undefined;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    certificate = await makeCertificate();
    const tokensFile = join(certificate.certFile, '..', 'tokens');
    await writeFile(tokensFile, `${token} ${tenant}\n${otherTenantsToken} ${newTenant()}\n`);
    server = await startServerProcess({
      EVENT_STORE_TOKENS_FILE: tokensFile,
      EVENT_STORE_TLS_CERT: certificate.certFile,
      EVENT_STORE_TLS_KEY: certificate.keyFile,
    });
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await certificate?.remove();
  });

  /** The CLI by host name (the certificate's), trusting the test's CA through the environment. */
  function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Finished> {
    const address = `localhost:${server?.port ?? expect.fail('no server')}`;
    const ca = certificate?.certFile ?? expect.fail('no certificate');
    return run(process.execPath, ['--import', 'tsx', 'src/main.ts', '--addr', address, '--tenant', tenant, ...args], {
      env: { EVENT_STORE_TLS_CA: ca, EVENT_STORE_TOKEN: '', ...env },
      timeoutMs: 60_000,
    });
  }

  it('opens an account with EVENT_STORE_TOKEN and the CA', async () => {
    const result = await cli({ EVENT_STORE_TOKEN: token }, 'open', '--customer', 'ann', '--type', 'Checking', '--initial', '10', '--id', 'ann-1');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('AccountOpened');
  }, CLI_TEST_TIMEOUT_MS);

  it.each<[string, NodeJS.ProcessEnv, string[], string]>([
    ['no token', {}, [], 'refused the call: this event store needs a token'],
    ['an unknown token', {}, ['--token', `unknown-${uuidv7()}`], 'refused the call: the token is not known to this event store'],
    ["another tenant's token", {}, ['--token', 'OTHER'], 'refused tenant "TENANT": the token does not cover tenant "TENANT"'],
  ])('exits 3 with %s, naming the problem', async (_, env, flags, message) => {
    const result = await cli(env, ...flags.map((flag) => (flag === 'OTHER' ? otherTenantsToken : flag)), 'summary', 'ann-1');
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stderr).toContain(`error: the event store at localhost:${server?.port ?? 0} `);
    expect(result.stderr).toContain(message.replaceAll('TENANT', tenant));
    expect(result.stderr).toContain('EVENT_STORE_TOKEN');
    expect(result.stderr).not.toContain('cannot be reached');
    expect(result.stderr).not.toContain(otherTenantsToken);
  }, CLI_TEST_TIMEOUT_MS);

  it('refuses a token that a header cannot carry as a usage error (exit 2), without ever showing it', async () => {
    const secret = `s3cret-${uuidv7()}`;
    const result = await cli({ EVENT_STORE_TOKEN: `${secret}\u0007` }, 'summary', 'ann-1');
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain('EVENT_STORE_TOKEN: the token must be visible ASCII characters');
    expect(result.stdout + result.stderr).not.toContain(secret);
  }, CLI_TEST_TIMEOUT_MS);

  it('exits 3 when speaking plaintext to it, saying so', async () => {
    const result = await cli({ EVENT_STORE_TOKEN: token, EVENT_STORE_TLS_CA: '' }, 'summary', 'ann-1');
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stderr).toContain('plaintext; a server that speaks TLS needs TLS here too');
  }, CLI_TEST_TIMEOUT_MS);
});
