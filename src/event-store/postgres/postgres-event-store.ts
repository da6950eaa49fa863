// The event store on PostgreSQL: the backend that keeps events across restarts and lets
// several server processes share one log. Same rules as the in-memory store, enforced by
// one SQL function that appends a batch (group-commit.ts gathers it), read back in pages
// by global position (log-reads.ts holds the reads' SQL).

import pg from 'pg';
import type { Pool } from 'pg';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadStreamRequest,
  RecordedEvent,
  StreamPage,
  SubscribeRequest,
  SubscriptionMessage,
} from '../event-store.ts';
import { ConcurrencyError, DuplicateEventIdError, IdempotencyKeyReusedError, InvalidRequestError, StoreUnavailableError } from '../errors.ts';
import { checkAppend, checkReadStream, checkSubscribe, pageSize } from '../rules.ts';
import { batchStatement } from './append-statement.ts';
import { CommitNotifier } from './commit-notifier.ts';
import { translateDatabaseError } from './database-errors.ts';
import { GroupCommit } from './group-commit.ts';
import { NotificationListener } from './listener.ts';
import { migrate, notificationChannel } from './migrations.ts';
import type { PostgresEventStoreOptions, ResolvedOptions } from './options.ts';
import { describeDatabase, resolveOptions } from './options.ts';
import type { Row } from './rows.ts';
import { withinBudget } from './byte-budget.ts';
import type { LogPage } from './log-reads.ts';
import { logPageOf, logPageQuery, streamPageQuery } from './log-reads.ts';
import { bigintColumn, optionalText, text, toRecordedEvent } from './rows.ts';
import { Doorbell, Wakeups } from './wakeups.ts';

export class PostgresEventStore implements EventStore {
  private readonly schema: string;
  private readonly wakeups = new Wakeups();
  private readonly listener: NotificationListener;
  private readonly notifier: CommitNotifier;
  private readonly groupCommit: GroupCommit;
  private closed = false;

  /** Connects, creates or upgrades the schema, and returns the store ready to serve. */
  static async connect(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    const resolved = resolveOptions(options);
    const database = describeDatabase(resolved.connectionString);
    const pool = new pg.Pool({
      connectionString: resolved.connectionString,
      max: resolved.poolMax,
      statement_timeout: resolved.statementTimeoutMs,
      lock_timeout: resolved.lockTimeoutMs,
      idle_in_transaction_session_timeout: resolved.idleInTransactionTimeoutMs,
      connectionTimeoutMillis: resolved.connectTimeoutMs,
      // Named by schema, so pg_stat_activity shows which store a connection serves.
      application_name: `eventstore/${resolved.schema}`,
      // statement_timeout is the database's own limit; a connection that silently died
      // never reports it, so the client gives up a little later on its own. TCP keepalive
      // starts probing after 10 s of silence instead of the operating system's 2 hours.
      query_timeout: resolved.statementTimeoutMs + 5_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle connection the server drops (restart, failover) is discarded by the pool;
    // without a listener its error would end the process.
    pool.on('error', () => undefined);
    try {
      await migrate(pool, resolved.schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw translateDatabaseError(error, database);
    }
    return new PostgresEventStore(pool, resolved, database);
  }

  private constructor(
    private readonly pool: Pool,
    private readonly options: ResolvedOptions,
    private readonly database: string,
  ) {
    this.schema = `"${options.schema}"`;
    this.listener = new NotificationListener({
      clientConfig: {
        connectionString: options.connectionString,
        connectionTimeoutMillis: options.connectTimeoutMs,
        application_name: `eventstore-listener/${options.schema}`,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      },
      channel: notificationChannel(options.schema),
      onAppended: (tenantId) => (tenantId === undefined ? this.wakeups.wakeAll() : this.wakeups.wake(tenantId)),
      onListening: () => this.wakeups.wakeAll(),
    });
    const channel = notificationChannel(options.schema);
    this.notifier = new CommitNotifier(async (payloads) => {
      // NOTIFY takes a transaction id, so its commit would wait for a WAL flush of its own;
      // what it announces is already durable, so this commit need not wait.
      await this.query({
        text: `SELECT count(pg_notify($1, payload)), set_config('synchronous_commit', 'off', true) FROM unnest($2::text[]) payload`,
        values: [channel, payloads],
      });
    });
    this.groupCommit = new GroupCommit({
      run: (appends, { wait }) => this.query(batchStatement(options.schema, appends, { wait, keyRetentionMs: options.idempotencyRetentionMs })),
      failure: (error) => translateDatabaseError(error, database),
      committed: (lastPositionByTenant) => {
        // Subscriptions in this process hear of it now; other processes by NOTIFY.
        for (const tenantId of lastPositionByTenant.keys()) this.wakeups.wake(tenantId);
        this.notifier.committed(lastPositionByTenant);
      },
      // One batch in the database at a time while the next gathers behind it: measured
      // against two at a time, the batches came out twice as large and no slower each, so
      // fewer commits and less CPU for the same appends. A quarter of the pool may wait on
      // contended tenants.
      batchesInFlight: 1,
      waitingBatchesInFlight: Math.max(1, Math.floor(options.poolMax / 4)),
    });
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const bytes = checkAppend(request, this.options.limits);
    const row = await this.groupCommit.submit(request, bytes);
    const outcome = text(row, 'outcome');
    const lastVersion = bigintColumn(row, 'last_version');
    const lastGlobalPosition = bigintColumn(row, 'last_global_position');
    const { aggregateId, aggregateType } = request.stream;
    switch (outcome) {
      case 'appended':
      case 'replayed':
        return { lastVersion, lastGlobalPosition };
      case 'key-reused':
        throw new IdempotencyKeyReusedError(`idempotency key ${request.idempotencyKey} was used for another batch`);
      case 'conflict':
        throw new ConcurrencyError({
          tenantId: request.tenantId,
          aggregateId,
          expectedVersion: request.expectedVersion,
          actualVersion: lastVersion,
          actualGlobalPosition: lastGlobalPosition,
        });
      case 'type-mismatch':
        throw new InvalidRequestError(`stream ${aggregateId} holds ${optionalText(row, 'stream_type')} events, not ${aggregateType}`);
      case 'duplicate-event-id':
        throw new DuplicateEventIdError(`an event id of this batch is already stored for tenant ${request.tenantId}`);
      default:
        throw new Error(`append_batch answered an unknown outcome ${outcome}`);
    }
  }

  async readStream(request: ReadStreamRequest): Promise<StreamPage> {
    checkReadStream(request, this.options.limits);
    const size = pageSize(request.maxCount);
    const forward = request.direction === 'forward';
    const first = Math.max(request.fromVersion, 1);
    const from = request.fromVersion === 0 ? Number.MAX_SAFE_INTEGER : request.fromVersion;
    // Forward, one row more than the page tells whether anything is left after it.
    const rows = await this.query({
      text: streamPageQuery(this.options.schema, forward),
      values: [request.tenantId, request.aggregateId, forward ? first : from, forward ? size + 1 : size, this.options.limits.responseBytes],
    });
    const events = withinBudget(rows).slice(0, size).map(toRecordedEvent);
    if (forward) return { events, isEnd: events.length === rows.length, nextFromVersion: first + events.length };
    // Versions are consecutive, so the page ends right above the next one to read.
    const nextFromVersion = (events[0]?.version ?? 0) - events.length;
    return { events, isEnd: nextFromVersion === 0, nextFromVersion };
  }

  async *subscribe(request: SubscribeRequest): AsyncIterable<SubscriptionMessage> {
    checkSubscribe(request, this.options.limits);
    const { tenantId, signal } = request;
    const prefix = request.aggregateIdPrefix ?? '';
    const stopped = (): boolean => this.closed || signal?.aborted === true;
    const doorbell = new Doorbell();
    const leave = this.wakeups.add(tenantId, doorbell.ring);
    try {
      // Listening before the first read, so no commit falls between the read and the wait.
      await this.listener.start();
      let from = Math.max(request.fromPosition, 1);
      let caughtUp = false;
      // Reset before each read: a commit the read may have missed rings it again.
      const read = (position: number): Promise<LogPage> => {
        doorbell.reset();
        const page = this.query(logPageQuery(this.options.schema, { tenantId, prefix, from: position, budget: this.options.limits.responseBytes }))
          .then((rows) => logPageOf(rows, position));
        // Awaited below unless the subscriber leaves first; then its failure is nobody's.
        page.catch(() => undefined);
        return page;
      };
      let next = read(from);
      while (!stopped()) {
        const page = await next;
        from = page.nextPosition;
        // Catching up, the next page is read while this one is delivered.
        if (!page.isEnd) next = read(from);
        for (const event of page.events) {
          if (stopped()) return;
          yield { kind: 'event', event };
        }
        if (!page.isEnd) continue;
        if (!caughtUp) {
          caughtUp = true;
          yield { kind: 'caught-up' };
        }
        await doorbell.wait(this.options.fallbackPollMs, signal);
        next = read(from);
      }
    } catch (error) {
      if (stopped()) return;
      throw error;
    } finally {
      leave();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeups.wakeAll();
    await this.listener.close();
    await this.pool.end();
  }

  private async query(query: { name?: string; text: string; values: unknown[] }): Promise<Row[]> {
    if (this.closed) throw new StoreUnavailableError('the PostgreSQL event store is closed');
    try {
      return (await this.pool.query<Row>(query)).rows;
    } catch (error) {
      throw translateDatabaseError(error, this.database);
    }
  }
}
