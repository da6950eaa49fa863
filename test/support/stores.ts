// Stores that misbehave on purpose, to stage what a real store does only rarely: a
// subscription that stalls, counts its callers, or dies once it is live.

import type { EventStore } from '../../src/event-store/event-store.ts';

/** The store with its subscribe replaced. */
export function withSubscribe(store: EventStore, subscribe: EventStore['subscribe']): EventStore {
  return { append: (request) => store.append(request), readStream: (request) => store.readStream(request), subscribe, close: () => store.close() };
}

/** Appends and reads work; every subscription reports caught-up, then fails with `error`. */
export function withDyingSubscriptions(store: EventStore, error: Error): EventStore {
  return withSubscribe(store, async function* () {
    yield { kind: 'caught-up' } as const;
    throw error;
  });
}
