// The one place where untyped gRPC messages become typed values: every field read here is
// checked, so the rest of the server and client only ever handle the port's own types.

import { InvalidRequestError } from '../errors.ts';

/** A decoded protobuf message, read field by field with its type checked. */
export class Fields {
  private constructor(
    private readonly record: Readonly<Record<string, unknown>>,
    /**
     * Where in the message we are, for errors a reader can act on. Put into words only when
     * there is an error: a catch-up reads thousands of events a second through here.
     */
    private readonly where: () => string,
  ) {}

  static of(value: unknown, path: string | (() => string)): Fields {
    const where = typeof path === 'string' ? () => path : path;
    if (!isRecord(value)) throw new InvalidRequestError(`${where()}: not a message`);
    return new Fields(value, where);
  }

  private get path(): string {
    return this.where();
  }

  string(name: string): string {
    const value = this.record[name] ?? '';
    if (typeof value !== 'string') throw this.invalid(name, 'a string');
    return value;
  }

  /** Proto3 cannot tell an empty string from an unset one: both read as absent. */
  optionalString(name: string): string | undefined {
    const value = this.string(name);
    return value === '' ? undefined : value;
  }

  bool(name: string): boolean {
    const value = this.record[name] ?? false;
    if (typeof value !== 'boolean') throw this.invalid(name, 'a boolean');
    return value;
  }

  uint32(name: string): number {
    const value = this.record[name] ?? 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw this.invalid(name, 'a uint32');
    return value;
  }

  /**
   * 64-bit integers arrive as numbers. The port counts in JavaScript numbers, so a value
   * past Number.MAX_SAFE_INTEGER is refused rather than taken for another position: the
   * decoder rounded it, but never down to a safe integer.
   */
  uint64(name: string): number {
    const value = this.record[name] ?? 0;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw this.invalid(name, 'a uint64');
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new InvalidRequestError(`${this.path}.${name}: about ${value.toExponential(3)}, beyond ${Number.MAX_SAFE_INTEGER}, the largest supported value`);
    }
    return value;
  }

  bytes(name: string): Uint8Array {
    const value = this.record[name] ?? new Uint8Array();
    if (!(value instanceof Uint8Array)) throw this.invalid(name, 'bytes');
    return value;
  }

  /** An embedded message, or undefined when it is unset. */
  message(name: string): Fields | undefined {
    const value = this.record[name];
    if (value === undefined || value === null) return undefined;
    return Fields.of(value, () => `${this.path}.${name}`);
  }

  messages(name: string): Fields[] {
    const value = this.record[name] ?? [];
    if (!Array.isArray(value)) throw this.invalid(name, 'a list');
    return value.map((item, index) => Fields.of(item, () => `${this.path}.${name}[${index}]`));
  }

  stringMap(name: string): Record<string, string> {
    const value = this.record[name] ?? {};
    if (!isRecord(value)) throw this.invalid(name, 'a map');
    const map: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string') throw this.invalid(`${name}.${key}`, 'a string');
      map[key] = entry;
    }
    return map;
  }

  private invalid(name: string, expected: string): InvalidRequestError {
    return new InvalidRequestError(`${this.path}.${name}: expected ${expected}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
