// Whether PostgreSQL can be reached, asked on a connection of its own: the server's health
// service answers from it, so a busy pool never reads as an outage, nor an outage as a busy pool.

import pg from 'pg';

export class DatabaseProbe {
  private client: pg.Client | undefined;
  private closed = false;

  constructor(private readonly connectionString: string) {}

  /** `SELECT 1` within `timeoutMs`, connecting first if need be; rejects with why not. */
  async ping(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('the probe is closed');
    const client = this.client ?? (await this.connect(timeoutMs));
    try {
      await client.query('SELECT 1');
    } catch (error) {
      // A connection that failed once is not trusted again: the next probe dials afresh.
      this.drop(client);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(timeoutMs: number): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'eventstore-health',
    });
    // A connection the database drops between probes must not take the process down.
    client.on('error', () => this.drop(client));
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('the probe is closed');
    }
    this.client = client;
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
  }
}
