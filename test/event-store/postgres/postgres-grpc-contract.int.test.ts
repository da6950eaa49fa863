// The contract suite through the gRPC server with the PostgreSQL store behind it: the
// client sees the same rules whichever backend the server runs.

import { GrpcEventStore } from '../../../src/event-store/grpc-event-store.ts';
import { describePostgres, startPostgresStore } from '../../support/postgres.ts';
import { describeEventStoreContract } from '../contract.ts';
import { serveOnLoopback } from '../grpc/loopback.ts';

describePostgres('PostgreSQL event store behind the gRPC server', (databaseUrl) => {
  describeEventStoreContract('gRPC client → server (postgres backend)', async () => {
    const backend = await startPostgresStore(databaseUrl);
    const server = await serveOnLoopback(backend.store).catch(async (error: unknown) => {
      await backend.stop();
      throw error;
    });
    try {
      const store = await GrpcEventStore.connect({ address: server.address });
      return {
        store,
        stop: async () => {
          await store.close();
          await server.stop();
          await backend.stop();
        },
      };
    } catch (error) {
      await server.stop();
      await backend.stop();
      throw error;
    }
  });
});
