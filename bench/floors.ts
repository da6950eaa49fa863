// Bench floors: what the transport and the database cost with nothing of ours on top. Rows
// are measured in turns with their floors, so on a noisy machine both see the same load and
// their ratio means something even when the absolute numbers do not.

import { Client, credentials } from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import pg from 'pg';
import { InMemoryEventStore } from '../src/event-store/in-memory-event-store.ts';
import { startListeningChild } from './children.ts';
import type { ListeningChild } from './children.ts';
import { ECHO_SERVICE, encodeStreamOrder } from './echo-protocol.ts';
import { progress, SIZES, timeMs } from './measure.ts';
import type { Slot } from './measure.ts';
import { freshSchema, withClient } from './postgres.ts';
import { depositAppend } from './workload.ts';

const COLUMNS = 'tenant_id, aggregate_id, version, event_id, event_type, content_type, correlation_id, causation_id, client_timestamp_ms, payload';

export class Floors {
  private readonly payload = depositAppend({ tenantId: 'floor', accountId: 'floor', expectedVersion: 0 }).events[0]?.payload ?? new Uint8Array();
  private cursorRows = 0;
  private insertRuns = 0;

  private constructor(
    private readonly echoServer: ListeningChild,
    private readonly client: Client,
    private readonly sizes: { readonly messageBytes: number; readonly eventBytes: number },
    private readonly postgres: { readonly pool: pg.Pool; readonly table: string } | undefined,
  ) {}

  /** Starts the echo server child (a process of its own, as the event store server is) and, given a database, a scratch table. */
  static async start(sizes: { messageBytes: number; eventBytes: number }, databaseUrl: string | undefined): Promise<Floors> {
    progress('floors: starting the echo server child');
    const echoServer = await startListeningChild({ script: 'bench/echo-server.ts' });
    const client = new Client(echoServer.address, credentials.createInsecure());
    await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
    if (databaseUrl === undefined) return new Floors(echoServer, client, sizes, undefined);
    const schema = freshSchema('floor');
    const table = `"${schema}".rows`;
    await withClient(databaseUrl, async (c) => {
      await c.query(`CREATE SCHEMA "${schema}"`);
      // The columns an event row has, a primary key and the index a reader pages by: no more.
      await c.query(`CREATE TABLE ${table} (
        position bigserial PRIMARY KEY, tenant_id text NOT NULL, aggregate_id text NOT NULL, version bigint NOT NULL,
        event_id text NOT NULL, event_type text NOT NULL, content_type text NOT NULL, correlation_id text, causation_id text,
        client_timestamp_ms bigint, payload bytea NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      await c.query(`CREATE INDEX ON ${table} (tenant_id, position)`);
    });
    return new Floors(echoServer, client, sizes, { pool: new pg.Pool({ connectionString: databaseUrl, max: 16 }), table });
  }

  /** Unary echoes of an append-sized message to the child, `inFlight` at a time. */
  echo(inFlight: number): Slot {
    const message = Buffer.alloc(this.sizes.messageBytes, 0x62);
    const { path, requestSerialize, responseDeserialize } = ECHO_SERVICE.echo;
    const echo = (): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        this.client.makeUnaryRequest(path, requestSerialize, responseDeserialize, message, (error, reply) =>
          error || reply === undefined ? reject(error ?? new Error('empty echo')) : resolve(reply),
        );
      });
    return { name: `floor: echo of ${this.sizes.messageBytes} bytes, ${inFlight} in flight`, inFlight, op: echo };
  }

  /** Small messages per second on one server stream, as many as a catch-up row reads. */
  async stream(): Promise<number> {
    progress(`floor: gRPC server stream of ${SIZES.catchUpEvents} messages of ${this.sizes.eventBytes} bytes`);
    const { path, requestSerialize, responseDeserialize } = ECHO_SERVICE.stream;
    const read = (count: number): Promise<{ ms: number; result: number }> =>
      timeMs(async () => {
        const order = encodeStreamOrder({ count, size: this.sizes.eventBytes });
        const call: ClientReadableStream<Buffer> = this.client.makeServerStreamRequest(path, requestSerialize, responseDeserialize, order);
        let received = 0;
        for await (const chunk of call) if (Buffer.isBuffer(chunk)) received++;
        return received;
      });
    await read(Math.min(20_000, SIZES.catchUpEvents));
    const { ms, result } = await read(SIZES.catchUpEvents);
    return (result / ms) * 1000;
  }

  /** The in-memory store's own append of one small event, in process: what no command can beat. */
  memoryAppend(): Slot {
    const store = new InMemoryEventStore();
    let appended = 0;
    return {
      name: 'floor: in-memory append, in process',
      inFlight: 1,
      op: async () => {
        // A new stream every 100 events, so the floor does not drift with stream length.
        const accountId = `floor-${Math.floor(appended / 100)}`;
        await store.append(depositAppend({ tenantId: 'floor', accountId, expectedVersion: appended % 100 }));
        appended++;
      },
    };
  }

  /** BEGIN; INSERT one event-sized row; COMMIT, `inFlight` clients at a time: each commit waits for its WAL flush. */
  insert(inFlight: number): Slot {
    const { pool, table } = this.database();
    const versions = new Array<number>(inFlight).fill(0);
    // Each call of insert() writes streams of its own, so the rows' versions never collide.
    const run = ++this.insertRuns;
    return {
      name: `floor: INSERT transaction, ${inFlight} client(s)`,
      inFlight,
      op: async (worker) => {
        const version = (versions[worker] ?? 0) + 1;
        versions[worker] = version;
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(
            `INSERT INTO ${table} (${COLUMNS}) VALUES ($1, $2, $3, gen_random_uuid()::text, 'MoneyDeposited', 'application/json', $4, $4, $5, $6)`,
            ['floor', `writer-${run}-${worker}`, version, `cmd-${worker}-${version}`, Date.now(), this.payload],
          );
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      },
    };
  }

  /** Rows per second read through one cursor in pages of 1000, from a table of catch-up length. */
  async cursor(): Promise<number> {
    const { pool, table } = this.database();
    if (this.cursorRows === 0) {
      progress(`floor: writing ${SIZES.catchUpEvents} rows to read with a cursor`);
      await pool.query(
        `INSERT INTO ${table} (${COLUMNS}) SELECT 'catch-up', 'acct-' || (g / 1000), g % 1000 + 1, 'evt-' || g, 'MoneyDeposited',
           'application/json', 'cmd-' || g, 'cmd-' || g, 1700000000000 + g, $1 FROM generate_series(0, $2 - 1) g`,
        [this.payload, SIZES.catchUpEvents],
      );
      await pool.query(`ANALYZE ${table}`);
      this.cursorRows = SIZES.catchUpEvents;
    }
    progress(`floor: PostgreSQL cursor read of ${this.cursorRows} rows`);
    const { ms, result } = await timeMs(async () => {
      const client = await pool.connect();
      let rows = 0;
      try {
        await client.query('BEGIN');
        await client.query(`DECLARE reader NO SCROLL CURSOR FOR SELECT * FROM ${table} WHERE tenant_id = 'catch-up' ORDER BY position`);
        for (let page = await client.query('FETCH 1000 FROM reader'); page.rows.length > 0; page = await client.query('FETCH 1000 FROM reader')) {
          rows += page.rows.length;
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
      return rows;
    });
    return (result / ms) * 1000;
  }

  async close(): Promise<void> {
    this.client.close();
    await this.postgres?.pool.end();
    await this.echoServer.stop();
  }

  private database(): { readonly pool: pg.Pool; readonly table: string } {
    if (this.postgres === undefined) throw new Error('the PostgreSQL floors need DATABASE_URL');
    return this.postgres;
  }
}
