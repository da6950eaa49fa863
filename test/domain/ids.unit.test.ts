// Ids made at the edge: UUIDv7, unique, and in the order they were made, so events and
// commands sort by creation time however fast they come.
import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { newId } from '../../src/ids.ts';

describe('newId', () => {
  it('makes valid, unique version 7 UUIDs that sort in the order they were made', () => {
    // Far more than one millisecond holds: ids of the same millisecond must still rise.
    const ids = Array.from({ length: 50_000 }, newId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => validate(id) && version(id) === 7)).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('puts the current time in the leading 48 bits', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    const ms = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 1);
  });
});
