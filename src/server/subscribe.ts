// Subscribe on the server: how read-side projections on other processes follow the log.
// It pulls from the store only as fast as the subscriber reads, so a slow projection
// costs the server a few buffered messages, never a copy of the log.

import { once } from 'node:events';
import { Metadata, status } from '@grpc/grpc-js';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { SubscriptionMessage } from '../event-store/event-store.ts';
import { NO_EVENT } from '../event-store/grpc/subscribe-response-writer.ts';
import { subscribeRequestFromWire } from '../event-store/grpc/wire.ts';
import type { CallContext } from './build-server.ts';
import { decoded } from './decoding.ts';
import type { FailedStatus } from './status.ts';

export interface SubscriptionOptions {
  readonly heartbeatMs: number;
  /** Every open subscription, so shutdown can end them all. */
  readonly subscriptions: Set<AbortController>;
}

/**
 * The reason shutdown aborts a subscription with. Its end is then UNAVAILABLE, never OK:
 * a client must not take a server going away for the end of the log.
 */
export const SHUTTING_DOWN = Symbol('server shutting down');

export async function serveSubscription(
  context: CallContext,
  options: SubscriptionOptions,
  call: ServerWritableStream<unknown, object>,
): Promise<void> {
  // One signal ends the store's subscription whoever stops first: the client or shutdown.
  const controller = new AbortController();
  const { signal } = controller;
  const abort = (): void => controller.abort();
  options.subscriptions.add(controller);
  call.on('cancelled', abort);
  let iterator: AsyncIterator<SubscriptionMessage> | undefined;
  // One timer per subscription rather than one per message: at each tick, a live
  // subscription that sent nothing since the last tick and waits on the store sends a
  // heartbeat. Never before caught-up: clients take the first empty response for that.
  let live = false;
  let waitingOnStore = false;
  let sentSinceTick = true;
  const ticker = setInterval(() => {
    if (live && waitingOnStore && !sentSinceTick && !call.writableNeedDrain) call.write(NO_EVENT);
    sentSinceTick = false;
  }, options.heartbeatMs);
  // Set when reloaded tokens no longer admit this call: it then ends as a new call would be refused.
  let refused: FailedStatus | undefined;
  let stopWatching = (): void => undefined;
  try {
    const admitTenant = context.admit(call.metadata);
    const request = subscribeRequestFromWire(decoded(call.request));
    admitTenant(request.tenantId);
    stopWatching = context.watchAccess(() => {
      try {
        context.admit(call.metadata)(request.tenantId);
      } catch (error) {
        refused = context.fail('Subscribe', error);
        controller.abort();
      }
    });
    iterator = context.store.subscribe({ ...request, signal })[Symbol.asyncIterator]();
    for (;;) {
      // The port promises that an aborted subscription ends quietly, so awaiting the store
      // alone is enough to notice a cancel or a shutdown.
      waitingOnStore = true;
      const next = await iterator.next();
      waitingOnStore = false;
      if (next.done === true || signal.aborted) break;
      sentSinceTick = true;
      if (next.value.kind === 'caught-up') live = true;
      // write() answering false means the client's window and our buffer are full: pull
      // nothing more from the store until they drain.
      // Written as it is: the method's serializer is subscribe-response-writer.ts.
      if (!call.write(next.value.kind === 'event' ? next.value.event : NO_EVENT)) await drained(call, signal);
      if (signal.aborted) break;
    }
    end(call, signal, refused);
  } catch (error) {
    if (signal.aborted) end(call, signal, refused);
    else call.emit('error', context.fail('Subscribe', error));
    return;
  } finally {
    stopWatching();
    clearInterval(ticker);
    options.subscriptions.delete(controller);
    call.off('cancelled', abort);
    abort();
    // Not awaited: a store may take a moment to notice the signal, and nobody waits on it.
    iterator?.return?.().catch(() => undefined);
  }
}

/**
 * OK when the client asked to stop; UNAVAILABLE when the server is going away; `refused`
 * when reloaded tokens no longer admit the call.
 */
function end(call: ServerWritableStream<unknown, object>, signal: AbortSignal, refused: FailedStatus | undefined): void {
  if (call.cancelled) return;
  if (refused !== undefined) call.emit('error', refused);
  else if (signal.reason === SHUTTING_DOWN) call.emit('error', { code: status.UNAVAILABLE, details: 'server shutting down', metadata: new Metadata() });
  else call.end();
}

async function drained(call: ServerWritableStream<unknown, object>, signal: AbortSignal): Promise<void> {
  try {
    await once(call, 'drain', { signal });
  } catch {
    // Aborted, or the call broke: either way the loop sees it and stops.
  }
}
