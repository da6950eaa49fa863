// Which event store a run uses, from its options and environment, decided before anything
// connects: a mistyped mode or address is refused with the fix instead of being tried.

import { SENDABLE_TOKEN, UNSENDABLE_TOKEN } from '../event-store/grpc/channel-target.ts';
import { UsageError } from './usage-error.ts';
import type { GlobalOptions, Invocation } from './arguments.ts';

export type StoreChoice =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'grpc';
      readonly address: string;
      /** Sent with every call, for a server with a tokens file. */
      readonly token?: string;
      /** TLS, trusting the CA in `caFile` (PEM) or the system's. */
      readonly tls?: { readonly caFile?: string };
    };

export const DEFAULT_ADDRESS = '127.0.0.1:50051';

const MODES: readonly string[] = ['memory', 'grpc'];

/** A host name, an IPv4 address or a bracketed IPv6 one, then a port. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

export function chooseStore(
  options: Pick<GlobalOptions, 'memory' | 'addr'> & Partial<Pick<GlobalOptions, 'token' | 'tls'>>,
  environment: Readonly<Record<string, string | undefined>>,
  command: Invocation['command'],
): StoreChoice {
  const mode = environment.EVENT_STORE_MODE ?? '';
  if (mode !== '' && !MODES.includes(mode)) {
    throw new UsageError(`EVENT_STORE_MODE is "${mode}"; it takes ${MODES.join(' or ')} (unset or empty: grpc)`);
  }
  const addr = options.addr === undefined ? undefined : hostAndPort(options.addr, '--addr');
  if (options.memory || mode === 'memory') {
    // Nothing but this process could append to its store, so watch would wait forever.
    if (command === 'watch') {
      const memory = options.memory ? '--memory' : 'EVENT_STORE_MODE=memory';
      throw new UsageError(
        `watch follows what other processes append, but with ${memory} the store lives inside this process, where nothing\n` +
          'else can write to it. Drive and read a store of your own with `pnpm start -- --memory shell`, or start a server\n' +
          '(`pnpm event-store`) and watch it while other terminals write to it.',
        'watch',
      );
    }
    const serverOnly = options.token !== undefined ? '--token' : options.tls === true ? '--tls' : undefined;
    if (serverOnly !== undefined) throw new UsageError(`${serverOnly} is for the gRPC server; with --memory (or EVENT_STORE_MODE=memory) there is none`);
    return { kind: 'memory' };
  }
  const fromEnvironment = environment.EVENT_STORE_ADDR || undefined;
  const address = addr ?? (fromEnvironment === undefined ? DEFAULT_ADDRESS : hostAndPort(fromEnvironment, 'EVENT_STORE_ADDR'));
  const token = options.token ?? (environment.EVENT_STORE_TOKEN || undefined);
  if (token !== undefined && !SENDABLE_TOKEN.test(token)) {
    throw new UsageError(`${options.token === undefined ? 'EVENT_STORE_TOKEN' : '--token'}: ${UNSENDABLE_TOKEN}`);
  }
  const caFile = environment.EVENT_STORE_TLS_CA || undefined;
  const tls = options.tls === true || caFile !== undefined ? { ...(caFile === undefined ? {} : { caFile }) } : undefined;
  return { kind: 'grpc', address, ...(token === undefined ? {} : { token }), ...(tls === undefined ? {} : { tls }) };
}

/**
 * One HOST:PORT, or several separated by commas (servers of one database, which the client
 * spreads calls over). `source` is what the address came from, so the message says which
 * one to fix.
 */
function hostAndPort(text: string, source: '--addr' | 'EVENT_STORE_ADDR'): string {
  for (const one of text.split(',')) checkOne(one, source);
  return text;
}

function checkOne(text: string, source: '--addr' | 'EVENT_STORE_ADDR'): void {
  const port = Number(HOST_PORT.exec(text)?.[1] ?? Number.NaN);
  if (port >= 1 && port <= 65_535) return;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i;
  const hint = scheme.test(text)
    ? ` (without the scheme: ${text.replace(scheme, '').replace(/\/+$/, '')})`
    : /^\d+$/.test(text)
      ? ` (with a host: 127.0.0.1:${text})`
      : '';
  throw new UsageError(`${source} takes HOST:PORT, like ${DEFAULT_ADDRESS}, not "${text}"${hint}`);
}
