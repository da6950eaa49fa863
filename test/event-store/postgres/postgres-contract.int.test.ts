// The contract suite against the PostgreSQL store directly, in a schema of its own.
import { describePostgres, startPostgresStore } from '../../support/postgres.ts';
import { describeEventStoreContract } from '../contract.ts';

describePostgres('PostgreSQL event store', (databaseUrl) => {
  describeEventStoreContract('postgres', () => startPostgresStore(databaseUrl));
});
