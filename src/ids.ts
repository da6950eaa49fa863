// Ids for events and commands, made at the edges and passed in, so the domain stays
// deterministic: UUIDv7, whose leading timestamp makes ids sort by creation time. The
// `uuid` package lays out the bits; the random bytes come from a pool refilled 8 KiB at a
// time, because asking the operating system for 16 bytes per id cost ten times the rest.

import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const pool = new Uint8Array(16 * 512);
let used = pool.length;

/** Where the last id stands: ids made within one millisecond count up from a random start. */
let lastMs = -Infinity;
let sequence = 0;

export function newId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const random = pool.subarray(used, used + 16);
  used += 16;
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // 31 random bits, so ids of one millisecond start anywhere and still have room to count.
    sequence = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    sequence = (sequence + 1) | 0;
    // The counter ran out within one millisecond: borrow the next one, as RFC 9562 allows.
    if (sequence === 0) lastMs++;
  }
  return v7({ random, msecs: lastMs, seq: sequence });
}
