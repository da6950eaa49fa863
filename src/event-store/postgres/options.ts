// How the PostgreSQL event store connects: the options a program passes in, their
// defaults, and the environment variables the server reads them from.

import { InvalidRequestError } from '../errors.ts';
import type { Limits } from '../limits.ts';
import { limitsFromEnv } from '../limits.ts';

export interface PostgresEventStoreOptions {
  /** e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  readonly connectionString: string;
  /** Every table, function and sequence of the store lives here; created when missing. */
  readonly schema?: string;
  /** Connections in the pool, besides the one dedicated LISTEN connection. */
  readonly poolMax?: number;
  /** Any single statement running longer is cancelled, so a stuck query cannot pin a connection. */
  readonly statementTimeoutMs?: number;
  /**
   * The longest an append waits for its tenant's lock held by another transaction; then it
   * fails as not recorded, safe to send again, rather than holding a connection on and on.
   */
  readonly lockTimeoutMs?: number;
  /** A transaction left open and idle this long is ended by the server, releasing its locks. */
  readonly idleInTransactionTimeoutMs?: number;
  /** How long to wait for a new connection before calling the database unreachable. */
  readonly connectTimeoutMs?: number;
  /** How often a live subscription looks at the table anyway, in case a notification was lost. */
  readonly fallbackPollMs?: number;
  /** The store's limits (limits.ts); by default as the environment sets them. */
  readonly limits?: Limits;
  /**
   * How long an idempotency key is honoured: a resend within it gets the first answer;
   * later the key is forgotten and the append stands on its expected version alone.
   */
  readonly idempotencyRetentionMs?: number;
}

export type ResolvedOptions = Required<PostgresEventStoreOptions>;

export const DEFAULT_OPTIONS = {
  schema: 'public',
  // Appends go in batches over a few connections (see group-commit.ts); the rest serve
  // reads: 16 writers and as many live subscriptions get by without queuing for long.
  // PostgreSQL itself slows down past a few busy connections per core.
  poolMax: 20,
  statementTimeoutMs: 15_000,
  lockTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  fallbackPollMs: 1_500,
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
} as const;

/** Lower-case identifiers only: no quoting surprises, and the schema name fits in a channel name. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

export function resolveOptions(options: PostgresEventStoreOptions): ResolvedOptions {
  const resolved = { ...DEFAULT_OPTIONS, ...withoutUndefined(options), connectionString: options.connectionString, limits: options.limits ?? limitsFromEnv() };
  if (!SCHEMA_NAME.test(resolved.schema)) {
    throw new InvalidRequestError(`schema name ${JSON.stringify(resolved.schema)} must match ${SCHEMA_NAME}`);
  }
  for (const name of ['poolMax', 'statementTimeoutMs', 'lockTimeoutMs', 'idleInTransactionTimeoutMs', 'connectTimeoutMs', 'fallbackPollMs', 'idempotencyRetentionMs'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidRequestError(`${name} must be a whole number from 1 up, got ${value}`);
  }
  return resolved;
}

/**
 * The server's environment: DATABASE_URL (required), PG_SCHEMA, PG_POOL_MAX,
 * PG_STATEMENT_TIMEOUT_MS, PG_LOCK_TIMEOUT_MS, PG_IDLE_IN_TRANSACTION_TIMEOUT_MS, PG_CONNECT_TIMEOUT_MS,
 * PG_IDEMPOTENCY_RETENTION_MS.
 * Returns a message instead of options when something is missing or malformed.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv): PostgresEventStoreOptions | { readonly problem: string } {
  const connectionString = env['DATABASE_URL'];
  if (connectionString === undefined || connectionString === '') {
    return { problem: 'BACKEND=postgres needs DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test' };
  }
  const numbers = {
    poolMax: 'PG_POOL_MAX',
    statementTimeoutMs: 'PG_STATEMENT_TIMEOUT_MS',
    lockTimeoutMs: 'PG_LOCK_TIMEOUT_MS',
    idleInTransactionTimeoutMs: 'PG_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    connectTimeoutMs: 'PG_CONNECT_TIMEOUT_MS',
    idempotencyRetentionMs: 'PG_IDEMPOTENCY_RETENTION_MS',
  } as const;
  const parsed: { -readonly [K in keyof typeof numbers]?: number } = {};
  for (const [option, variable] of Object.entries(numbers) as Array<[keyof typeof numbers, string]>) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) return { problem: `${variable} must be a whole number from 1 up, got ${JSON.stringify(text)}` };
    parsed[option] = value;
  }
  const schema = env['PG_SCHEMA'] || undefined;
  return { connectionString, ...parsed, ...(schema === undefined ? {} : { schema }) };
}

/** Where the database is, for messages: never the password. */
export function describeDatabase(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `PostgreSQL at ${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL is not a URL)';
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
