// A subscription over gRPC that outlives its connection: when the server goes away (or one
// of several goes away) it connects again, with back-off, from the position after the last
// event it yielded, so the caller sees no gap and no repeat. The gRPC client's Subscribe.

import { status } from '@grpc/grpc-js';
import type { Client, Metadata } from '@grpc/grpc-js';
import type { RecordedEvent, SubscribeRequest, SubscriptionMessage } from '../event-store.ts';
import { StoreUnavailableError } from '../errors.ts';
import { errorFromStatus, isServiceError, unreadableReply } from './errors-from-status.ts';
import { methods } from './proto.ts';
import { decodeSubscribeResponse, UnreadableResponse } from './subscribe-response-reader.ts';
import { subscribeRequestToWire } from './wire.ts';

export interface Connection {
  readonly client: Client;
  readonly address: string;
  /** Silence this long on a live subscription, heartbeats included, is a lost connection. */
  readonly silenceTimeoutMs: number;
  /** How long to keep trying to resume before failing with StoreUnavailableError. */
  readonly reconnectGiveUpMs: number;
  readonly metadata: () => Metadata;
}

/** Subscribe failures worth a reconnect: the server or the network went away, not a refusal. */
const TRANSIENT = new Set<number>([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED]);

/**
 * Ends quietly once its signal aborts. `track` is handed that signal's controller when
 * the first message is asked for, and returns what to do once the subscription is over.
 */
export async function* resumingSubscription(
  connection: Connection,
  request: SubscribeRequest,
  track: (controller: AbortController) => () => void,
): AsyncGenerator<SubscriptionMessage> {
  const controller = new AbortController();
  const { signal } = controller;
  const untrack = track(controller);
  const site = { address: connection.address, tenantId: request.tenantId };
  let fromPosition = request.fromPosition;
  let caughtUp = false;
  let attempt = 0;
  let failingSinceMs: number | undefined;
  let lastFailure = 'the stream ended';
  try {
    while (!signal.aborted) {
      const call = connection.client.makeServerStreamRequest(
        methods.subscribe.path,
        methods.subscribe.requestSerialize,
        decodeSubscribeResponse,
        subscribeRequestToWire({ ...request, fromPosition }),
        connection.metadata(),
      );
      const cancel = (): void => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      const responses = call[Symbol.asyncIterator]();
      let live = false;
      try {
        for (;;) {
          // A connection that died without a word (a host gone, a partition) shows only
          // as silence. Once live, servers send heartbeats while idle, so silence this
          // long is a loss; during catch-up a slow scan may be silent, so no timer then.
          const next = live ? await withinSilence(responses.next(), cancel, connection.silenceTimeoutMs) : await responses.next();
          if (next.done === true) break;
          attempt = 0;
          failingSinceMs = undefined;
          const event = next.value as RecordedEvent | UnreadableResponse | undefined;
          if (event instanceof UnreadableResponse) throw unreadableReply(connection.address, event.reason);
          if (event === undefined) {
            live = true;
            if (caughtUp) continue;
            caughtUp = true;
            yield { kind: 'caught-up' };
          } else {
            fromPosition = event.globalPosition + 1;
            yield { kind: 'event', event };
          }
        }
      } catch (error) {
        if (signal.aborted) return;
        if (!isServiceError(error) || !TRANSIENT.has(error.code)) throw errorFromStatus(error, site);
        lastFailure = `${status[error.code]}: ${error.details}`;
      } finally {
        signal.removeEventListener('abort', cancel);
        call.cancel();
        await responses.return?.().catch(() => undefined);
      }
      // The stream ended or broke without anyone asking: the server went away. Follow on.
      failingSinceMs ??= Date.now();
      if (Date.now() - failingSinceMs > connection.reconnectGiveUpMs) {
        const gaveUp = `for ${connection.reconnectGiveUpMs} ms (last: ${lastFailure})`;
        throw new StoreUnavailableError(`lost the event store at ${connection.address} and could not resume the subscription ${gaveUp}`);
      }
      await pause(Math.min(100 * 2 ** attempt++, 2_000), signal);
    }
  } finally {
    untrack();
  }
}

/** Cancels the call unless `next` settles within `ms`. Only while live: a catch-up would pay a timer per event. */
async function withinSilence<T>(next: Promise<T>, cancel: () => void, ms: number): Promise<T> {
  const silence = setTimeout(cancel, ms);
  try {
    return await next;
  } finally {
    clearTimeout(silence);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
