// Subscribe on the server: how read-side projections on other processes follow the log.
// It pulls from the store only as fast as the subscriber reads, so a slow projection
// costs the server a few buffered messages, never a copy of the log.

import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { SubscriptionMessage } from '../event-store/event-store.ts';
import { subscribeRequestFromWire, subscriptionMessageToWire } from '../event-store/grpc/wire.ts';
import type { CallContext } from './build-server.ts';
import { decoded } from './decoding.ts';

export interface SubscriptionOptions {
  readonly heartbeatMs: number;
  /** Every open subscription, so shutdown can end them all. */
  readonly subscriptions: Set<AbortController>;
}

const HEARTBEAT = {};

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
  const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
  let iterator: AsyncIterator<SubscriptionMessage> | undefined;
  try {
    const request = subscribeRequestFromWire(decoded(call.request));
    iterator = context.store.subscribe({ ...request, signal })[Symbol.asyncIterator]();
    const send = async (response: object): Promise<void> => {
      // write() answering false means the client's window and our buffer are full: pull
      // nothing more from the store until they drain.
      if (!call.write(response)) await drained(call, signal);
    };
    for (;;) {
      const next = await nextOrHeartbeat(iterator, { aborted, heartbeatMs: options.heartbeatMs, send });
      if (next === 'aborted' || next.done === true) break;
      await send(subscriptionMessageToWire(next.value));
      if (signal.aborted) break;
    }
    if (!call.cancelled) call.end();
  } catch (error) {
    if (signal.aborted) call.end();
    else call.emit('error', context.fail('Subscribe', error));
    return;
  } finally {
    options.subscriptions.delete(controller);
    call.off('cancelled', abort);
    abort();
    // Not awaited: a store may take a moment to notice the signal, and nobody waits on it.
    iterator?.return?.().catch(() => undefined);
  }
}

/** The store's next message; while it is slow to come, an empty response every heartbeat. */
async function nextOrHeartbeat(
  iterator: AsyncIterator<SubscriptionMessage>,
  wait: { aborted: Promise<'aborted'>; heartbeatMs: number; send: (response: object) => Promise<void> },
): Promise<IteratorResult<SubscriptionMessage> | 'aborted'> {
  const next = iterator.next();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), wait.heartbeatMs)));
    const outcome = await Promise.race([next, wait.aborted, idle]).finally(() => clearTimeout(timer));
    if (outcome !== 'idle') return outcome;
    await wait.send(HEARTBEAT);
  }
}

async function drained(call: ServerWritableStream<unknown, object>, signal: AbortSignal): Promise<void> {
  try {
    await once(call, 'drain', { signal });
  } catch {
    // Aborted, or the call broke: either way the loop sees it and stops.
  }
}
