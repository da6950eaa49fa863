// Test support: memory as it stands after a full garbage collection, so a test that bounds
// memory measures what is still held, never garbage the collector has not reached yet.

import v8 from 'node:v8';
import vm from 'node:vm';

// Tests run in workers started without --expose-gc; the flag still applies to contexts
// created after it is set, and a new context hands its `gc` over.
v8.setFlagsFromString('--expose-gc');
const exposed: unknown = vm.runInNewContext('gc');
if (typeof exposed !== 'function') throw new Error('V8 did not expose gc');
const gc = exposed;

/** Bytes held after a full collection: the JS heap plus buffers (event payloads live there). */
export function heapAfterGc(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
