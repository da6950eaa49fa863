// Which EventStore implementation the gRPC server serves, chosen by the BACKEND variable:
// the server itself serves any of them the same way.

import type { EventStore } from '../event-store/event-store.ts';
import { InvalidRequestError, StoreUnavailableError } from '../event-store/errors.ts';
import { InMemoryEventStore } from '../event-store/in-memory-event-store.ts';
import type { Limits } from '../event-store/limits.ts';
import { LimitConfigError, limitsFromEnv } from '../event-store/limits.ts';
import { describeDatabase, optionsFromEnv } from '../event-store/postgres/options.ts';
import { PostgresEventStore } from '../event-store/postgres/postgres-event-store.ts';
import { DatabaseProbe } from '../event-store/postgres/probe.ts';
import type { StorageProbe } from './health.ts';

export const BACKENDS = ['memory', 'postgres'] as const;

export interface Backend {
  readonly name: string;
  readonly store: EventStore;
  /** Whether the storage can be reached, for the health service; a memory store always can. */
  readonly probe?: StorageProbe;
}

/** A BACKEND the server cannot serve: the entry point prints it and exits non-zero. */
export class BackendConfigError extends Error {}

/** The limits come from the EVENT_STORE_MAX_* variables (src/event-store/limits.ts). */
export async function openBackend(name: string): Promise<Backend> {
  const limits = configuredLimits(process.env);
  switch (name) {
    case 'memory':
      return { name, store: new InMemoryEventStore(Date.now, limits) };
    case 'postgres':
      return openPostgres(process.env, limits);
    default:
      throw new BackendConfigError(`unknown BACKEND "${name}": expected one of ${BACKENDS.join(', ')}`);
  }
}

/** DATABASE_URL and the PG_* variables (see src/event-store/postgres/options.ts); migrates at start. */
async function openPostgres(env: NodeJS.ProcessEnv, limits: Limits): Promise<Backend> {
  const options = optionsFromEnv(env);
  if ('problem' in options) throw new BackendConfigError(options.problem);
  try {
    const store = await PostgresEventStore.connect({ ...options, limits });
    const name = `postgres, ${describeDatabase(options.connectionString)}, schema ${options.schema ?? 'public'}`;
    return { name, store, probe: new DatabaseProbe(options.connectionString) };
  } catch (error) {
    if (error instanceof StoreUnavailableError || error instanceof InvalidRequestError) throw new BackendConfigError(`BACKEND=postgres: ${error.message}`);
    throw error;
  }
}

function configuredLimits(env: NodeJS.ProcessEnv): Limits {
  try {
    return limitsFromEnv(env);
  } catch (error) {
    if (error instanceof LimitConfigError) throw new BackendConfigError(error.message);
    throw error;
  }
}
