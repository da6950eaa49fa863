// The contract suite through the gRPC server with the PostgreSQL store behind it: the
// client sees the same rules whichever backend the server runs.

import { GrpcEventStore } from '../../../src/event-store/grpc-event-store.ts';
import { describePostgres, startPostgresStore } from '../../support/postgres.ts';
import { describeEventStoreContract } from '../contract.ts';
import { serveOnLoopback } from '../grpc/loopback.ts';

describePostgres('PostgreSQL event store behind the gRPC server', (databaseUrl) => {
  describeEventStoreContract('gRPC client → server (postgres backend)', async () => {
    // Undone in reverse order, whether the suite ends or a step of starting it fails.
    const undo: Array<() => Promise<void>> = [];
    const stop = async (): Promise<void> => {
      for (const step of undo.reverse()) await step();
    };
    try {
      const backend = await startPostgresStore(databaseUrl);
      undo.push(backend.stop);
      const server = await serveOnLoopback(backend.store);
      undo.push(server.stop);
      const store = await GrpcEventStore.connect({ address: server.address });
      undo.push(() => store.close());
      return { store, stop };
    } catch (error) {
      await stop();
      throw error;
    }
  });
});
