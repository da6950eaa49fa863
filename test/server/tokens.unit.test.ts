// Who may call the event store, read from the tokens file: what a line grants, which files
// are refused (naming the line, never the token), and when a bind address needs tokens.

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermissionDeniedError, UnauthenticatedError } from '../../src/event-store/errors.ts';
import { isLoopback, reloadTokens, SecurityConfigError, securityFromEnv } from '../../src/server/security.ts';
import { AccessControl, parseTokensFile, TokensFileError } from '../../src/server/tokens.ts';
import type { TokenGrant } from '../../src/server/tokens.ts';
import { makeCertificate } from '../support/certificate.ts';

// Tokens of the file below; it.each tables read them as the file is collected.
const ALICE = 'alice-0123456789abcdef';
const ADMIN = 'admin-fedcba9876543210';
const COMMENTED = 'old-token-0000000000';
const FILE = `# who may call the event store
\t
${ALICE} tenant-a,tenant-b   # two tenants
# ${COMMENTED} tenant-a
${ADMIN} *
`;

describe('the tokens file', () => {
  it('grants each token its tenants, `*` every tenant, and skips comments and blank lines', () => {
    const access = new AccessControl(parseTokensFile(FILE, 'tokens'));
    expect(access.size).toBe(2);
    const alice = access.authenticate(bearer(ALICE));
    expect(() => AccessControl.authorize(alice, 'tenant-a')).not.toThrow();
    expect(() => AccessControl.authorize(alice, 'tenant-b')).not.toThrow();
    expect(() => AccessControl.authorize(alice, 'tenant-c')).toThrow(PermissionDeniedError);
    expect(() => AccessControl.authorize(alice, 'tenant-c')).toThrow('the token does not cover tenant "tenant-c"');
    const admin = access.authenticate(bearer(ADMIN));
    expect(() => AccessControl.authorize(admin, 'any-tenant-at-all')).not.toThrow();
  });

  it('takes `#` for a comment only at the start of a line or after a space: inside a field it is part of it', () => {
    const [hashed, spaced, tabbed] = parseTokensFile(`${ALICE} acme#eu\n${ADMIN} acme #eu\n${COMMENTED} acme\t#eu\n`, 'tokens');
    expect(() => AccessControl.authorize(hashed!, 'acme#eu')).not.toThrow();
    expect(() => AccessControl.authorize(hashed!, 'acme')).toThrow(PermissionDeniedError);
    expect(() => AccessControl.authorize(spaced!, 'acme')).not.toThrow();
    expect(() => AccessControl.authorize(spaced!, 'acme#eu')).toThrow(PermissionDeniedError);
    expect(() => AccessControl.authorize(tabbed!, 'acme')).not.toThrow();
  });

  it.each<[string, Metadata, string]>([
    ['no authorization', new Metadata(), 'this event store needs a token'],
    ['an unknown token', bearer('z'.repeat(32)), 'the token is not known'],
    ['a known token with one character more', bearer(`${ALICE}x`), 'the token is not known'],
    ['another scheme', withHeader(`Basic ${ALICE}`), 'must read `Bearer TOKEN`'],
    ['an empty bearer', withHeader('Bearer '), 'must read `Bearer TOKEN`'],
    ['a token that was only in a comment', bearer(COMMENTED), 'the token is not known'],
  ])('refuses %s as unauthenticated', (_, metadata, message) => {
    const access = new AccessControl(parseTokensFile(FILE, 'tokens'));
    expect(() => access.authenticate(metadata)).toThrow(UnauthenticatedError);
    expect(() => access.authenticate(metadata)).toThrow(message);
  });

  it('takes the scheme in any case, as HTTP does', () => {
    const access = new AccessControl(parseTokensFile(FILE, 'tokens'));
    expect(access.authenticate(withHeader(`bearer ${ALICE}`)).line).toBe(3);
  });

  it.each<[string, string, string]>([
    ['a token without tenants', `${ALICE}\n`, 'tokens line 1: expected TOKEN TENANT'],
    ['a short token', 'short tenant-a\n', 'tokens line 1: the token is shorter than 16 characters'],
    ['a space in the tenant list', `${ALICE} tenant-a, tenant-b\n`, 'tokens line 1: expected two fields'],
    ['an empty tenant', `${ALICE} tenant-a,,tenant-b\n`, 'tokens line 1: an empty tenant'],
    ['`*` with other tenants', `${ALICE} *,tenant-a\n`, 'tokens line 1: `*` already covers every tenant'],
    ['one token twice', `${ALICE} tenant-a\n# again\n${ALICE} tenant-b\n`, 'tokens line 3: the same token as line 1'],
    ['a file of comments only', '# nobody yet\n\n', 'tokens holds no token'],
  ])('refuses %s, naming the line and never the token', (_, text, message) => {
    expect(() => parseTokensFile(text, 'tokens')).toThrow(TokensFileError);
    expect(() => parseTokensFile(text, 'tokens')).toThrow(message);
    try {
      parseTokensFile(text, 'tokens');
    } catch (error) {
      expect(String(error)).not.toContain(ALICE);
    }
  });
});

describe('the server security settings', () => {
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'event-store-tokens-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it.each(['127.0.0.1:50051', '127.1.2.3:0', 'localhost:50051', '[::1]:50051'])('takes %s for loopback', (address) => {
    expect(isLoopback(address)).toBe(true);
  });

  it.each(['0.0.0.0:50051', '[::]:50051', '10.0.0.5:50051', 'example.org:50051', '[::ffff:127.0.0.1]:50051'])('takes %s for reachable from elsewhere', (address) => {
    expect(isLoopback(address)).toBe(false);
  });

  it('refuses to serve beyond loopback without tokens, saying how to give them', async () => {
    const refused = securityFromEnv({}, '0.0.0.0:50051');
    await expect(refused).rejects.toThrow(SecurityConfigError);
    await expect(refused).rejects.toThrow(/BIND_ADDR=0\.0\.0\.0:50051 is reachable from other machines[\s\S]*EVENT_STORE_TOKENS_FILE=tokens pnpm event-store[\s\S]*EVENT_STORE_INSECURE=1/);
  });

  it('serves beyond loopback unprotected only with EVENT_STORE_INSECURE=1, and warns', async () => {
    const security = await securityFromEnv({ EVENT_STORE_INSECURE: '1' }, '0.0.0.0:50051');
    expect(security.access).toBeUndefined();
    expect(security.notices.join('\n')).toMatch(/^WARNING: EVENT_STORE_INSECURE=1: serving 0\.0\.0\.0:50051 without tokens/m);
  });

  it('serves beyond loopback with a tokens file, warning that without TLS the tokens travel in plaintext', async () => {
    const file = join(directory, 'tokens');
    await writeFile(file, `${'t'.repeat(20)} *\n`, { mode: 0o600 });
    const security = await securityFromEnv({ EVENT_STORE_TOKENS_FILE: file }, '0.0.0.0:50051');
    expect(security.access?.size).toBe(1);
    expect(security.notices).toEqual([
      `tokens: 1 from ${file} (SIGHUP reads the file again)`,
      'WARNING: serving 0.0.0.0:50051 without TLS: tokens travel in plaintext; give the server EVENT_STORE_TLS_CERT and EVENT_STORE_TLS_KEY',
    ]);
  });

  it('does not warn of plaintext tokens beyond loopback when the server speaks TLS', async () => {
    const file = join(directory, 'tokens-with-tls');
    await writeFile(file, `${'t'.repeat(20)} *\n`, { mode: 0o600 });
    const certificate = await makeCertificate();
    try {
      const env = { EVENT_STORE_TOKENS_FILE: file, EVENT_STORE_TLS_CERT: certificate.certFile, EVENT_STORE_TLS_KEY: certificate.keyFile };
      expect((await securityFromEnv(env, '0.0.0.0:50051')).notices).toEqual([`tokens: 1 from ${file} (SIGHUP reads the file again)`, 'TLS: on; plaintext clients are refused']);
    } finally {
      await certificate.remove();
    }
  });

  it('serves loopback quietly, with a tokens file or without', async () => {
    const file = join(directory, 'tokens-on-loopback');
    await writeFile(file, `${'t'.repeat(20)} *\n`, { mode: 0o600 });
    expect((await securityFromEnv({ EVENT_STORE_TOKENS_FILE: file }, '127.0.0.1:50051')).notices).toEqual([`tokens: 1 from ${file} (SIGHUP reads the file again)`]);
    expect((await securityFromEnv({}, '127.0.0.1:50051')).notices).toEqual([]);
  });

  it('warns when other users may read the tokens file', async () => {
    const file = join(directory, 'readable');
    await writeFile(file, `${'t'.repeat(20)} *\n`);
    await chmod(file, 0o644);
    expect((await securityFromEnv({ EVENT_STORE_TOKENS_FILE: file }, '127.0.0.1:0')).notices).toContain(
      `WARNING: other users of this machine may read ${file}; \`chmod 600 ${file}\``,
    );
  });

  it('wants both TLS files, and says which is missing', async () => {
    await expect(securityFromEnv({ EVENT_STORE_TLS_CERT: join(directory, 'cert.pem') }, '127.0.0.1:0')).rejects.toThrow(
      'TLS needs both EVENT_STORE_TLS_CERT (the certificate chain, PEM) and EVENT_STORE_TLS_KEY',
    );
  });

  it('keeps the tokens in force when the file read again on SIGHUP cannot be used', async () => {
    const file = join(directory, 'reloaded');
    const first = 'first-token-0123456789';
    const second = 'second-token-012345678';
    await writeFile(file, `${first} tenant-a\n`);
    const access = new AccessControl(parseTokensFile(`${first} tenant-a\n`, file));

    await writeFile(file, `${second} tenant-a\n`);
    expect(await reloadTokens(access, file)).toBe(`tokens file reloaded: 1 tokens from ${file}`);
    expect(() => access.authenticate(bearer(first))).toThrow(UnauthenticatedError);
    expect(access.authenticate(bearer(second)).line).toBe(1);

    await writeFile(file, `${second}\n`);
    const outcome = await reloadTokens(access, file);
    expect(outcome).toBe(`tokens file NOT reloaded, the 1 tokens in force stay: ${file} line 1: expected TOKEN TENANT[,TENANT...] (or TOKEN * for every tenant)`);
    expect(access.authenticate(bearer(second)).line).toBe(1);
  });

  it('applies two quick reloads in the order of their signals, so the later file wins even when the earlier read is slower', async () => {
    const older = 'older-token-0123456789';
    const newer = 'newer-token-0123456789';
    const access = new AccessControl(parseTokensFile(`${older} tenant-a\n`, 'tokens'));
    let releaseSlowRead = (): void => undefined;
    const slowRead = new Promise<void>((resolve) => (releaseSlowRead = resolve));
    const contents = [`${older} tenant-a\n`, `${newer} tenant-a\n`];
    let reads = 0;
    // The first read saw the file before it was rotated and is the slow one.
    const read = async (path: string): Promise<TokenGrant[]> => {
      const text = contents[reads++]!;
      if (reads === 1) await slowRead;
      return parseTokensFile(text, path);
    };
    const first = reloadTokens(access, 'tokens', read);
    const second = reloadTokens(access, 'tokens', read);
    await new Promise((resolve) => setImmediate(resolve));
    releaseSlowRead();
    await Promise.all([first, second]);
    expect(reads).toBe(2);
    expect(() => access.authenticate(bearer(older))).toThrow(UnauthenticatedError);
    expect(access.authenticate(bearer(newer)).line).toBe(1);
  });
});

function bearer(token: string): Metadata {
  return withHeader(`Bearer ${token}`);
}

function withHeader(value: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', value);
  return metadata;
}
