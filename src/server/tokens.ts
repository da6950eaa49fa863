// Who may call the event store: the tokens file (EVENT_STORE_TOKENS_FILE) names each token
// and the tenants it covers, so a tenant's events are read and written only by its holders.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Metadata } from '@grpc/grpc-js';
import { PermissionDeniedError, UnauthenticatedError } from '../event-store/errors.ts';

/** One line of the file. Only the token's digest is kept, so no token sits in memory to leak. */
export interface TokenGrant {
  readonly digest: Buffer;
  readonly tenants: ReadonlySet<string> | 'every tenant';
  /** Where it came from, for messages: never the token itself. */
  readonly line: number;
}

/** A tokens file that cannot be used; the message names the line, never a token. */
export class TokensFileError extends Error {}

/** Shorter tokens are refused: a guessable token protects nothing. */
export const MIN_TOKEN_LENGTH = 16;

// A token travels in a header, so visible ASCII only.
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Lines of `TOKEN TENANT[,TENANT…]`, `*` for every tenant. A `#` at the start of a line or
 * after a space starts a comment; inside a field it is part of it, so `TOKEN acme#eu`
 * grants the tenant `acme#eu`, never `acme`.
 */
export function parseTokensFile(text: string, source: string): TokenGrant[] {
  const grants: TokenGrant[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') return;
    const problem = (why: string): TokensFileError => new TokensFileError(`${source} line ${line}: ${why}`);
    const [token = '', tenantList, ...extra] = content.split(/\s+/);
    if (tenantList === undefined) throw problem('expected TOKEN TENANT[,TENANT...] (or TOKEN * for every tenant)');
    if (extra.length > 0) throw problem('expected two fields, TOKEN and TENANT[,TENANT...], with no space inside the tenant list');
    if (!TOKEN.test(token)) throw problem('the token must be visible ASCII characters');
    if (token.length < MIN_TOKEN_LENGTH) throw problem(`the token is shorter than ${MIN_TOKEN_LENGTH} characters (make one with \`openssl rand -hex 32\`)`);
    const tenants = tenantList.split(',');
    if (tenants.some((tenant) => tenant === '')) throw problem('an empty tenant in the list');
    if (tenants.includes('*') && tenants.length > 1) throw problem('`*` already covers every tenant; list no others with it');
    const digest = digestOf(token);
    const earlier = grants.find((grant) => timingSafeEqual(grant.digest, digest));
    if (earlier !== undefined) throw problem(`the same token as line ${earlier.line}; give each token one line`);
    grants.push({ digest, tenants: tenants[0] === '*' ? 'every tenant' : new Set(tenants), line });
  });
  if (grants.length === 0) throw new TokensFileError(`${source} holds no token: nobody could call the server`);
  return grants;
}

export async function readTokensFile(path: string): Promise<TokenGrant[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TokensFileError(`cannot read the tokens file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseTokensFile(text, path);
}

/** The grants in force; `replace` swaps them at once, so a reload never leaves a call half-checked. */
export class AccessControl {
  private readonly watchers = new Set<() => void>();

  constructor(private grants: readonly TokenGrant[]) {}

  get size(): number {
    return this.grants.length;
  }

  replace(grants: readonly TokenGrant[]): void {
    this.grants = grants;
    for (const watcher of this.watchers) watcher();
  }

  /**
   * Calls `watcher` after each `replace`, until the returned function is called: a call that
   * stays open, a subscription, checks its token again then, as a new call would be.
   */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** The grant of the call's bearer token; UnauthenticatedError when there is none or nobody knows it. */
  authenticate(metadata: Metadata): TokenGrant {
    const [header] = metadata.get('authorization');
    if (header === undefined) throw new UnauthenticatedError('this event store needs a token: send `authorization: Bearer TOKEN` metadata');
    const bearer = /^Bearer +(\S+)$/i.exec(typeof header === 'string' ? header.trim() : '');
    if (bearer === null) throw new UnauthenticatedError('the authorization metadata must read `Bearer TOKEN`');
    const digest = digestOf(bearer[1]!);
    // Every grant is compared, matched or not, so the time taken says nothing about which.
    let found: TokenGrant | undefined;
    for (const grant of this.grants) if (timingSafeEqual(grant.digest, digest)) found = grant;
    if (found === undefined) throw new UnauthenticatedError('the token is not known to this event store');
    return found;
  }

  /** PermissionDeniedError unless the grant covers the tenant. */
  static authorize(grant: TokenGrant, tenantId: string): void {
    if (grant.tenants === 'every tenant' || grant.tenants.has(tenantId)) return;
    // At most a few dozen characters of the tenant: it is the caller's input, of any length.
    const shown = tenantId.length > 64 ? `${tenantId.slice(0, 64)}…` : tenantId;
    throw new PermissionDeniedError(`the token does not cover tenant ${JSON.stringify(shown)}`);
  }
}

/** Equal-length digests, as timingSafeEqual needs, whatever the token's length. */
function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
