// The event store served over gRPC: whichever EventStore implementation, behind the `eventstore.v1`
// protocol, so the bank's write and read sides can run in other processes than the store.

import { randomBytes } from 'node:crypto';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { Metadata, sendUnaryData, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { ConcurrencyError, MissingTenantError, StoreUnavailableError } from '../event-store/errors.ts';
import type { EventStore } from '../event-store/event-store.ts';
import { encodeSubscribeResponse } from '../event-store/grpc/subscribe-response-writer.ts';
import { eventStoreService, packageDefinition, SERVICE_NAME } from '../event-store/grpc/proto.ts';
import {
  appendRequestFromWire,
  appendResultToWire,
  readStreamRequestFromWire,
  streamPageToWire,
} from '../event-store/grpc/wire.ts';
import { decoded, withTolerantDecoding } from './decoding.ts';
import { HealthWatch } from './health.ts';
import type { HealthWatchOptions } from './health.ts';
import { statusOf } from './status.ts';
import type { FailedStatus } from './status.ts';
import { serveSubscription, SHUTTING_DOWN } from './subscribe.ts';
import { AccessControl } from './tokens.ts';

export interface ServerOptions {
  /** A subscription idle for between one and two of these gets an empty heartbeat response. */
  readonly heartbeatMs?: number;
  /** How long shutdown waits for calls in flight before cutting them off. */
  readonly shutdownGraceMs?: number;
  readonly log?: (line: string) => void;
  /** With it, every EventStore call needs a bearer token that covers its tenant. */
  readonly access?: AccessControl;
  /** TLS, for instance; plaintext without. */
  readonly credentials?: ServerCredentials;
  /** How the health service learns whether the storage can be reached; always SERVING without. */
  readonly health?: Omit<HealthWatchOptions, 'log'>;
}

export interface EventStoreServer {
  readonly server: Server;
  /** Binds `host:port` (port 0 picks a free one) and resolves to the port bound. */
  listen(address: string): Promise<number>;
  /** Stops accepting calls, ends open subscriptions with UNAVAILABLE, lets calls in flight finish. */
  shutdown(): Promise<void>;
}

/** What every RPC handler needs: the store, who may call, and how to report a failed call. */
export interface CallContext {
  readonly store: EventStore;
  /**
   * Checks the call's token before its request is even decoded, and returns the check of
   * the tenant the request names. Throws UnauthenticatedError; the check PermissionDeniedError.
   */
  readonly admit: (metadata: Metadata) => (tenantId: string) => void;
  /** Calls `recheck` whenever the tokens change, until the returned function is called. */
  readonly watchAccess: (recheck: () => void) => () => void;
  readonly fail: (method: string, error: unknown) => FailedStatus;
}

export function buildServer(store: EventStore, options: ServerOptions = {}): EventStoreServer {
  const log = options.log ?? ((line: string): void => console.error(line));
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  const watch = options.health === undefined ? undefined : new HealthWatch(health, ['', SERVICE_NAME], { ...options.health, log });
  const { access } = options;
  const context: CallContext = {
    store,
    admit: (metadata) => {
      if (access === undefined) return () => undefined;
      const grant = access.authenticate(metadata);
      return (tenantId) => {
        // The protocol answers an empty tenant UNAUTHENTICATED, token or no token.
        if (tenantId === '') throw new MissingTenantError();
        AccessControl.authorize(grant, tenantId);
      };
    },
    watchAccess: (recheck) => access?.watch(recheck) ?? ((): void => undefined),
    fail: (method, error) => {
      // Perhaps the database went away: health should say so now, not at the next tick.
      if (error instanceof StoreUnavailableError) void watch?.checkNow();
      const answer = statusOf(error, randomBytes(4).toString('hex'));
      // A version conflict is the store answering as designed (the writer reads and decides
      // again), as ordinary as a successful append: no failure to log.
      if (!(error instanceof ConcurrencyError)) {
        const withheld = answer.withheld === undefined ? '' : `\n  withheld from the client: ${answer.withheld}`;
        log(`${method} failed: ${status[answer.status.code]}: ${answer.status.details}${withheld}`);
      }
      return answer.status;
    },
  };
  const subscriptions = new Set<AbortController>();
  const subscriptionOptions = { heartbeatMs: options.heartbeatMs ?? 15_000, subscriptions };
  const implementation: UntypedServiceImplementation = {
    Append: (call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>) => void append(context, call, callback),
    ReadStream: (call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>) => void readStream(context, call, callback),
    Subscribe: (call: ServerWritableStream<unknown, object>) => void serveSubscription(context, subscriptionOptions, call),
  };

  // Pinging clients finds subscribers that vanished without closing, so their calls end
  // instead of waiting for a window that will never open again.
  const server = new Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
  const service = withTolerantDecoding(eventStoreService, packageDefinition);
  // Each Subscribe response is one event, written by hand: a catch-up writes one per event.
  service['Subscribe'] = { ...service['Subscribe']!, responseSerialize: encodeSubscribeResponse as (value: object) => Buffer };
  server.addService(service, implementation);
  health.addToServer(server);
  watch?.start();
  new ReflectionService(packageDefinition).addToServer(server);

  return {
    server,
    listen: (address) =>
      new Promise((resolve, reject) => {
        server.bindAsync(address, options.credentials ?? ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
      }),
    shutdown: async () => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      await watch?.stop();
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      for (const subscription of subscriptions) subscription.abort(SHUTTING_DOWN);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), options.shutdownGraceMs ?? 5_000)));
      if ((await Promise.race([drained, grace])) === 'late') server.forceShutdown();
      clearTimeout(timer);
    },
  };
}

async function append(context: CallContext, call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>): Promise<void> {
  try {
    const admitTenant = context.admit(call.metadata);
    const request = appendRequestFromWire(decoded(call.request));
    admitTenant(request.tenantId);
    callback(null, appendResultToWire(await context.store.append(request)));
  } catch (error) {
    callback(context.fail('Append', error));
    return;
  }
}

async function readStream(context: CallContext, call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>): Promise<void> {
  try {
    const admitTenant = context.admit(call.metadata);
    const request = readStreamRequestFromWire(decoded(call.request));
    admitTenant(request.tenantId);
    callback(null, streamPageToWire(await context.store.readStream(request)));
  } catch (error) {
    callback(context.fail('ReadStream', error));
    return;
  }
}
