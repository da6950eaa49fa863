// Read side, checkpoint layer: the checks a saved read model passes before it is believed.
// A file from disk is untrusted input, so every field is checked once, here, and becomes
// a typed value; anything else is an UnreadableSnapshotError, and the caller replays the log.

export class UnreadableSnapshotError extends Error {}

/** The largest span a JavaScript Date can show, so every time kept can be formatted. */
const MAX_TIME_MS = 8.64e15;

export type Fields = Readonly<Record<string, unknown>>;

/**
 * Where in the save a value sits, for the error that names it. A function is put into words
 * only when there is an error: a save holds hundreds of thousands of rows, checked here.
 */
export type Where = string | (() => string);

export function fieldsOf(value: unknown, where: Where): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unreadable(where, 'is not an object');
  return value as Fields;
}

export function listOf(value: unknown, where: Where): readonly unknown[] {
  if (!Array.isArray(value)) throw unreadable(where, 'is not a list');
  return value;
}

export function text(fields: Fields, name: string, where: Where): string {
  const value = fields[name];
  if (typeof value !== 'string') throw unreadable(`${placed(where)}.${name}`, 'is not a string');
  return value;
}

/** A safe integer within [min, max]. */
export function integer(fields: Fields, name: string, where: Where, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw unreadable(`${placed(where)}.${name}`, `is not a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Milliseconds since the epoch that a Date can format. */
export function timeMs(fields: Fields, name: string, where: Where): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_TIME_MS) {
    throw unreadable(`${placed(where)}.${name}`, 'is not a time in milliseconds');
  }
  return value;
}

export function oneOf<T extends string>(fields: Fields, name: string, where: Where, choices: readonly T[]): T {
  const value = fields[name];
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) throw unreadable(`${placed(where)}.${name}`, `is not one of ${choices.join(', ')}`);
  return choice;
}

/** A list of one row per account, each checked by `rowFrom`: an account twice is refused. */
export function rowsByAccount<Row extends { readonly accountId: string }>(value: unknown, where: string, rowFrom: (value: unknown, where: Where) => Row): Row[] {
  const seen = new Set<string>();
  return listOf(value, where).map((item, index) => {
    const at = (): string => `${where}[${index}]`;
    const row = rowFrom(item, at);
    if (seen.has(row.accountId)) throw new UnreadableSnapshotError(`${at()}.accountId repeats ${row.accountId}`);
    seen.add(row.accountId);
    return row;
  });
}

function unreadable(where: Where, problem: string): UnreadableSnapshotError {
  return new UnreadableSnapshotError(`${placed(where)} ${problem}`);
}

export function placed(where: Where): string {
  return typeof where === 'string' ? where : where();
}
