// The contract suite against the in-memory store: the reference every other store matches.
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { describeEventStoreContract } from './contract.ts';

describeEventStoreContract('in memory', async () => {
  const store = new InMemoryEventStore();
  return { store, stop: () => store.close() };
});
