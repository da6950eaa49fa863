// The event store's limits, one table for every store: what each bounds, its default and the
// environment variable that changes it. Refusals and the README's table are made from it.

export interface Limits {
  /** Bytes (UTF-8) of each text field: tenant, ids, types, idempotency key, header names and values. */
  readonly textBytes: number;
  readonly headersPerEvent: number;
  readonly payloadBytes: number;
  readonly eventsPerAppend: number;
  /** A ReadStream page or a Subscribe batch stops once it holds this many bytes (one event always goes). */
  readonly responseBytes: number;
  /** What the memory backend holds at most, counted as `storedBytes` counts; then appends are refused. */
  readonly memoryBytes: number;
}

export interface LimitSpec {
  readonly variable: string;
  readonly defaultValue: number;
  readonly bounds: string;
  /** The largest value the stores can honour, where there is one. */
  readonly max?: number;
}

// PostgreSQL refuses an index entry past about 2.7 KB, and three text fields share one
// (tenant, aggregate id, idempotency key): 512 bytes each keeps well under it.
export const LIMIT_SPECS: { readonly [Name in keyof Limits]: LimitSpec } = {
  textBytes: { variable: 'EVENT_STORE_MAX_TEXT_BYTES', defaultValue: 512, bounds: 'bytes of each text field (tenant, ids, types, idempotency key, header names and values)' },
  headersPerEvent: { variable: 'EVENT_STORE_MAX_HEADERS', defaultValue: 64, bounds: 'headers of one event' },
  payloadBytes: { variable: 'EVENT_STORE_MAX_PAYLOAD_BYTES', defaultValue: 1024 * 1024, bounds: 'payload bytes of one event' },
  // The memory store packs a batch's length into 16 bits (in-memory-event-store.ts).
  eventsPerAppend: { variable: 'EVENT_STORE_MAX_EVENTS_PER_APPEND', defaultValue: 1000, bounds: 'events in one append', max: 65_535 },
  responseBytes: { variable: 'EVENT_STORE_MAX_RESPONSE_BYTES', defaultValue: 1024 * 1024, bounds: 'bytes of one ReadStream page or Subscribe batch (an event larger still goes, alone)' },
  memoryBytes: { variable: 'EVENT_STORE_MEMORY_MAX_BYTES', defaultValue: 512 * 1024 * 1024, bounds: 'bytes the memory backend holds in all; past it appends are refused' },
};

export const DEFAULT_LIMITS: Limits = limitsFromEnv({});

/** A limit variable set to something that is not a whole number from 1 up. */
export class LimitConfigError extends Error {}

/** The limits as the environment sets them, each unset or empty variable at its default. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const read = (name: keyof Limits): number => {
    const spec = LIMIT_SPECS[name];
    const text = env[spec.variable];
    const value = text === undefined || text === '' ? spec.defaultValue : Number(text);
    if (!Number.isSafeInteger(value) || value < 1 || value > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
      const range = spec.max === undefined ? 'from 1 up' : `from 1 to ${spec.max}`;
      throw new LimitConfigError(`${spec.variable} must be a whole number ${range}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  return {
    textBytes: read('textBytes'),
    headersPerEvent: read('headersPerEvent'),
    payloadBytes: read('payloadBytes'),
    eventsPerAppend: read('eventsPerAppend'),
    responseBytes: read('responseBytes'),
    memoryBytes: read('memoryBytes'),
  };
}

/** The words every refusal past a limit ends with, so the caller knows what to change. */
export function limitName(name: keyof Limits, limits: Limits): string {
  return `limit ${LIMIT_SPECS[name].variable}=${limits[name]}`;
}
