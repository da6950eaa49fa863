// Hears appends committed by other server processes: one dedicated connection LISTENs on
// the schema's channel and turns each tiny notification into a wake-up for this process's
// subscriptions, which then read the events from the table themselves.

import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';

export interface ListenerOptions {
  readonly clientConfig: ClientConfig;
  readonly channel: string;
  /** An append was committed for this tenant; undefined when the payload did not say which. */
  readonly onAppended: (tenantId: string | undefined) => void;
  /** LISTEN is in place again: whatever committed while it was not must be read from the table. */
  readonly onListening: () => void;
}

const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 5_000;

export class NotificationListener {
  private client: pg.Client | undefined;
  private started: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  private closed = false;

  constructor(private readonly options: ListenerOptions) {}

  /**
   * Starts listening, once. Resolves when LISTEN is in place or the first attempt failed:
   * subscriptions never wait on it forever, the fallback poll serves them until a retry works.
   */
  start(): Promise<void> {
    this.started ??= this.connect();
    return this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.options.clientConfig);
    client.on('notification', (notification) => this.heard(notification));
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch {
      await client.end().catch(() => undefined);
      this.retryLater();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    // Listening again first, reading the table second: nothing can fall between the two.
    this.options.onListening();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
  }

  private heard(notification: Notification): void {
    // The payload is "<last global position> <tenant id>"; the position is for people
    // watching with psql, the tenant decides whom to wake.
    const payload = notification.payload ?? '';
    const space = payload.indexOf(' ');
    const tenantId = space === -1 ? '' : payload.slice(space + 1);
    this.options.onAppended(tenantId === '' ? undefined : tenantId);
  }
}
