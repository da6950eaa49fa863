// The contract suite against the gRPC client talking to a real server on loopback, the
// memory store behind it: the network adds no difference a caller could see.

import { GrpcEventStore } from '../../src/event-store/grpc-event-store.ts';
import { InMemoryEventStore } from '../../src/event-store/in-memory-event-store.ts';
import { describeEventStoreContract } from './contract.ts';
import { serveOnLoopback } from './grpc/loopback.ts';

describeEventStoreContract('gRPC client → server (memory backend)', async () => {
  const backend = new InMemoryEventStore();
  const server = await serveOnLoopback(backend);
  try {
    const store = await GrpcEventStore.connect({ address: server.address });
    return {
      store,
      stop: async () => {
        await store.close();
        await server.stop();
        await backend.close();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
});
