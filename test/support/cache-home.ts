// Test support (vitest globalSetup): every CLI a test starts saves its read models under
// XDG_CACHE_HOME, so the whole run gets a cache folder of its own, removed at the end,
// and never writes to the real ~/.cache. Tests that look at the files set their own.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function setup(): Promise<() => Promise<void>> {
  const cacheHome = await mkdtemp(join(tmpdir(), 'cqrs-bank-example-tests-'));
  process.env.XDG_CACHE_HOME = cacheHome;
  return () => rm(cacheHome, { recursive: true, force: true });
}
