// Which EventStore implementation the gRPC server serves, chosen by the BACKEND variable:
// the server itself serves any of them the same way.

import type { EventStore } from '../event-store/event-store.ts';
import { InMemoryEventStore } from '../event-store/in-memory-event-store.ts';

export const BACKENDS = ['memory', 'postgres'] as const;

export interface Backend {
  readonly name: string;
  readonly store: EventStore;
}

/** A BACKEND the server cannot serve: the entry point prints it and exits non-zero. */
export class BackendConfigError extends Error {}

export async function openBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'memory':
      return { name, store: new InMemoryEventStore() };
    case 'postgres':
      // The PostgreSQL store (src/event-store/postgres/) plugs in here when it lands.
      throw new BackendConfigError('BACKEND=postgres is not available yet in this version; use BACKEND=memory');
    default:
      throw new BackendConfigError(`unknown BACKEND "${name}": expected one of ${BACKENDS.join(', ')}`);
  }
}
