// How the event store server protects the log it serves, read from its environment: tokens
// per tenant, TLS, and a refusal to listen beyond loopback with neither turned on.

import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';
import { AccessControl, readTokensFile, TokensFileError } from './tokens.ts';

export interface Security {
  readonly credentials: ServerCredentials;
  readonly access?: AccessControl;
  /** Said at start: how the server is protected, or a warning that it is not. */
  readonly notices: readonly string[];
}

/** A setting the server cannot start with: the entry point prints it and exits 2. */
export class SecurityConfigError extends Error {}

export async function securityFromEnv(env: NodeJS.ProcessEnv, bindAddress: string): Promise<Security> {
  const notices: string[] = [];
  const tokensFile = env.EVENT_STORE_TOKENS_FILE || undefined;
  let access: AccessControl | undefined;
  if (tokensFile !== undefined) {
    access = new AccessControl(await readTokensFile(tokensFile).catch(configError));
    notices.push(`tokens: ${access.size} from ${tokensFile} (SIGHUP reads the file again)`);
    // Anyone who can read the file holds every token in it.
    if (((await stat(tokensFile)).mode & 0o077) !== 0) notices.push(`WARNING: other users of this machine may read ${tokensFile}; \`chmod 600 ${tokensFile}\``);
  }
  const credentials = await tlsFromEnv(env);
  if (credentials !== undefined) notices.push('TLS: on; plaintext clients are refused');
  // Allowed, for a proxy that adds TLS in front, but every token then crosses the network readable.
  if (access !== undefined && credentials === undefined && !isLoopback(bindAddress)) {
    notices.push(`WARNING: serving ${bindAddress} without TLS: tokens travel in plaintext; give the server EVENT_STORE_TLS_CERT and EVENT_STORE_TLS_KEY`);
  }
  if (access === undefined && !isLoopback(bindAddress)) {
    if (env.EVENT_STORE_INSECURE !== '1') {
      throw new SecurityConfigError(
        `BIND_ADDR=${bindAddress} is reachable from other machines, and without tokens anyone there could read and write every tenant.\n` +
          'Give the server a tokens file, one `TOKEN TENANT[,TENANT...]` a line (`*` for every tenant):\n' +
          '  echo "$(openssl rand -hex 32) *" > tokens && EVENT_STORE_TOKENS_FILE=tokens pnpm event-store\n' +
          'or listen on loopback (BIND_ADDR=127.0.0.1:50051), or set EVENT_STORE_INSECURE=1 to serve it unprotected anyway.',
      );
    }
    notices.push(`WARNING: EVENT_STORE_INSECURE=1: serving ${bindAddress} without tokens; anyone who can reach it can read and write every tenant`);
  }
  return { credentials: credentials ?? ServerCredentials.createInsecure(), ...(access === undefined ? {} : { access }), notices };
}

// The reload under way for each AccessControl: the next waits for it, so two quick SIGHUPs
// cannot finish in the wrong order and put the older file's tokens back in force.
const reloading = new WeakMap<AccessControl, Promise<string>>();

/**
 * Reads the tokens file again into `access`, after any reload still under way. A file that
 * cannot be used leaves the tokens in force as they were: a typo must not lock every client
 * out, nor let everyone in. `read` is for tests, to make a read slow.
 */
export function reloadTokens(access: AccessControl, path: string, read = readTokensFile): Promise<string> {
  const outcome = (reloading.get(access) ?? Promise.resolve('')).then(() => reloadOnce(access, path, read));
  reloading.set(access, outcome);
  return outcome;
}

async function reloadOnce(access: AccessControl, path: string, read: typeof readTokensFile): Promise<string> {
  try {
    access.replace(await read(path));
    return `tokens file reloaded: ${access.size} tokens from ${path}`;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `tokens file NOT reloaded, the ${access.size} tokens in force stay: ${why}`;
  }
}

/** EVENT_STORE_TLS_CERT and EVENT_STORE_TLS_KEY, PEM files: both or neither. */
async function tlsFromEnv(env: NodeJS.ProcessEnv): Promise<ServerCredentials | undefined> {
  const certFile = env.EVENT_STORE_TLS_CERT || undefined;
  const keyFile = env.EVENT_STORE_TLS_KEY || undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new SecurityConfigError('TLS needs both EVENT_STORE_TLS_CERT (the certificate chain, PEM) and EVENT_STORE_TLS_KEY (its private key, PEM)');
  }
  const [cert, key] = await Promise.all([pem(certFile, 'EVENT_STORE_TLS_CERT'), pem(keyFile, 'EVENT_STORE_TLS_KEY')]);
  try {
    return ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
  } catch (error) {
    throw new SecurityConfigError(`TLS: the certificate or key cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function pem(path: string, variable: string): Promise<Buffer> {
  const content = await readFile(path).catch((error: unknown) => {
    throw new SecurityConfigError(`${variable}: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!content.includes('-----BEGIN ')) throw new SecurityConfigError(`${variable}: ${path} is not a PEM file`);
  return content;
}

/** 127.0.0.0/8, ::1 and `localhost`: only this machine can reach them. */
export function isLoopback(bindAddress: string): boolean {
  const host = bindAddress.slice(0, bindAddress.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

function configError(error: unknown): never {
  if (error instanceof TokensFileError) throw new SecurityConfigError(error.message);
  throw error;
}
