// The event store port over gRPC: the write side appends and the read side subscribes
// through this client exactly as through the in-memory store, while the log lives in an
// `eventstore.v1` server (ours, `pnpm event-store`, or any other that speaks the protocol).

import { Metadata } from '@grpc/grpc-js';
import type { Client } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadStreamRequest,
  StreamPage,
  SubscribeRequest,
  SubscriptionMessage,
} from './event-store.ts';
import { NotRecordedError, StoreUnavailableError } from './errors.ts';
import { errorFromStatus, unreadableReply } from './grpc/errors-from-status.ts';
import type { CallSite } from './grpc/errors-from-status.ts';
import { openChannel, SENDABLE_TOKEN, UNSENDABLE_TOKEN } from './grpc/channel-target.ts';
import { pause, resumingSubscription } from './grpc/resuming-subscription.ts';
import { methods } from './grpc/proto.ts';
import {
  appendRequestToWire,
  appendResultFromWire,
  readStreamRequestToWire,
  streamPageFromWire,
} from './grpc/wire.ts';

export interface GrpcEventStoreOptions {
  /**
   * `host:port` of the server, or of several separated by commas (servers of one
   * database): calls are spread over those that answer.
   */
  readonly address: string;
  /** How long `connect` waits for the server to answer. Default 3 s. */
  readonly connectTimeoutMs?: number;
  /** Deadline of each Append and ReadStream call. Default 10 s. */
  readonly callTimeoutMs?: number;
  /** How long a subscription keeps trying to reconnect before it fails. Default 30 s. */
  readonly reconnectGiveUpMs?: number;
  /**
   * How long a live subscription waits for any response, heartbeats included, before it
   * takes the connection for lost and reconnects. Default 60 s: at least two of our
   * server's heartbeats.
   */
  readonly silenceTimeoutMs?: number;
  /** Sent as `authorization: Bearer TOKEN` with every call, for a server that wants tokens. */
  readonly token?: string;
  /** Speak TLS, trusting `ca` (PEM) or, without it, the system's certificate authorities. */
  readonly tls?: { readonly ca?: Buffer };
}

/** How often a call that is safe to send again (a read, a keyed append) is sent when its answer is lost. */
const ATTEMPTS = 3;

export class GrpcEventStore implements EventStore {
  private readonly subscriptions = new Set<AbortController>();
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly options: Settings,
  ) {}

  /**
   * Connects and waits until the server answers, so a missing server is reported here,
   * promptly, rather than by the first command. Rejects with StoreUnavailableError naming
   * the address when nothing answers within `connectTimeoutMs`.
   */
  static async connect(options: GrpcEventStoreOptions): Promise<GrpcEventStore> {
    // Else grpc-js refuses it at the first call with a message that quotes the token.
    if (options.token !== undefined && !SENDABLE_TOKEN.test(options.token)) throw new TypeError(UNSENDABLE_TOKEN);
    const settings: Settings = { connectTimeoutMs: 3_000, callTimeoutMs: 10_000, reconnectGiveUpMs: 30_000, silenceTimeoutMs: 60_000, ...options };
    const client = await openChannel(settings);
    return new GrpcEventStore(client, settings);
  }

  /**
   * An append whose answer was lost (a deadline, a dropped connection) may have committed.
   * With an idempotency key, sending the very same request again is safe, so it is tried
   * again a few times (with several servers, on another one); without one, or if it still
   * fails, the outcome is unknown. An append the server says it did not record is sent
   * again with or without a key.
   */
  async append(request: AppendRequest): Promise<AppendResult> {
    const site = { tenantId: request.tenantId, aggregateId: request.stream.aggregateId, expectedVersion: request.expectedVersion };
    const wire = appendRequestToWire(request);
    // Whether some attempt may have been recorded: true after a failure other than "not recorded".
    let inDoubt = false;
    try {
      // (Functions passed inline, not named first: tsx names a named one anew on every call.)
      const keyed = request.idempotencyKey !== undefined;
      return await this.resending((error) => {
        const notRecorded = error instanceof NotRecordedError;
        inDoubt ||= !notRecorded;
        return notRecorded || keyed;
      }, async () => {
        const response = await this.unary(methods.append, wire, site);
        return this.reply(() => appendResultFromWire(response));
      });
    } catch (error) {
      if (error instanceof StoreUnavailableError && inDoubt) throw new StoreUnavailableError(`${error.message}; whether the append was recorded is unknown`);
      throw error;
    }
  }

  /** A read changes nothing, so one whose answer is lost is simply asked again. */
  async readStream(request: ReadStreamRequest): Promise<StreamPage> {
    const site = { tenantId: request.tenantId, aggregateId: request.aggregateId };
    const wire = readStreamRequestToWire(request);
    return this.resending(() => true, async () => {
      const response = await this.unary(methods.readStream, wire, site);
      return this.reply(() => streamPageFromWire(response));
    });
  }

  /**
   * Yields the server's events and its first caught-up marker; later empty responses are
   * heartbeats and skipped. A broken connection is resumed where it broke
   * (resuming-subscription.ts), so the caller sees no gap and no repeat.
   */
  subscribe(request: SubscribeRequest): AsyncIterable<SubscriptionMessage> {
    // Returned, not delegated to with yield*: a generator around it would add a hop to
    // every event of a catch-up.
    return resumingSubscription({ ...this.options, client: this.client, metadata: () => this.metadata() }, request, (controller) => {
      // One signal for the caller's abort and for close().
      const abort = (): void => controller.abort();
      request.signal?.addEventListener('abort', abort, { once: true });
      if (request.signal?.aborted === true || this.closed) abort();
      this.subscriptions.add(controller);
      return () => {
        request.signal?.removeEventListener('abort', abort);
        this.subscriptions.delete(controller);
      };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.abort();
    this.client.close();
  }

  /**
   * A reply this client cannot read is the server's fault, not the caller's: it must not
   * surface as the InvalidRequestError the field checks throw for requests.
   */
  private reply<T>(decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      throw unreadableReply(this.options.address, error instanceof Error ? error.message : String(error));
    }
  }

  /** Makes the call, and sends it again when the store was unreachable and `mayResend` allows. */
  private async resending<T>(mayResend: (error: StoreUnavailableError) => boolean, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || !mayResend(error) || attempt >= ATTEMPTS) throw error;
        await pause(250 * attempt);
      }
    }
  }

  /** A fresh one per call: grpc-js may add to the object it is given. */
  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.token !== undefined) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  private unary(method: MethodDefinition<object, object>, request: object, site: Omit<CallSite, 'address'>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.metadata(),
        { deadline: Date.now() + this.options.callTimeoutMs },
        (error, response) => (error ? reject(errorFromStatus(error, { ...site, address: this.options.address })) : resolve(response)),
      );
    });
  }
}

type Settings = Required<Omit<GrpcEventStoreOptions, 'token' | 'tls'>> & Pick<GrpcEventStoreOptions, 'token' | 'tls'>;
