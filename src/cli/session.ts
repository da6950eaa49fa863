// What every CLI command works with: the wired bank, the store under it, and where output
// goes. main.ts builds one per process; the shell keeps one for its whole session.

import type { EventStore } from '../event-store/event-store.ts';
import type { Bank } from '../wire.ts';
import type { Output } from './terminal.ts';
import type { Tracer } from './trace.ts';

export interface Session {
  readonly bank: Bank;
  readonly store: EventStore;
  readonly tenantId: string;
  readonly storeDescription: string;
  readonly newId: () => string;
  readonly out: Output;
  readonly tracer: Tracer;
}
