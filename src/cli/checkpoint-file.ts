// The CLI's checkpoint files: where each read model of one server address and tenant is
// saved between runs, and how a file is written so that a crash or a second run at the
// same moment leaves the old file or the new one, whole, and never a mix of both.

import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';

/** The folder under the cache home, named after the project. */
export const CACHE_FOLDER = 'cqrs-bank-example';

/** A temporary file this old was left by a run that died before its rename. */
const ABANDONED_AFTER_MS = 10 * 60_000;

export interface SavedFor {
  readonly address: string;
  readonly tenantId: string;
  /** The read model's name, one of ours (AccountSummary, TransactionHistory, CustomerPortfolio): safe in a file name. */
  readonly readModel: string;
}

/**
 * `$XDG_CACHE_HOME/cqrs-bank-example/read-models-<hash>-<read model>.json` (`~/.cache` when
 * unset or relative, as the XDG spec says). The address and tenant are hashed, so any text
 * makes a safe file name and two of them never share one; each read model has its own file.
 */
export function checkpointFilePath(savedFor: SavedFor, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.XDG_CACHE_HOME;
  const cacheHome = configured !== undefined && isAbsolute(configured) ? configured : join(homedir(), '.cache');
  const hash = createHash('sha256').update(JSON.stringify([savedFor.address, savedFor.tenantId])).digest('hex').slice(0, 32);
  return join(cacheHome, CACHE_FOLDER, `read-models-${hash}-${savedFor.readModel}.json`);
}

export type FileRead = { readonly found: false } | { readonly found: true; readonly text: string };

/** The file's text, or found: false when there is none; any other failure is thrown. */
export async function readCheckpointFile(path: string): Promise<FileRead> {
  try {
    return { found: true, text: await readFile(path, 'utf8') };
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { found: false };
    throw error;
  }
}

/**
 * Writes `text` to `path` in what every reader sees as one step: into a temporary file
 * in the same folder (0600, in a 0700 folder), flushed to disk, then renamed over `path`.
 * A rename within one file system replaces the old file whole, so the file is always
 * complete; of two writers at once, the last rename wins. `beforeRename` lets a test stop
 * here, where a crash would leave only the temporary file behind.
 */
export async function writeFileAtomically(path: string, text: string, beforeRename: () => Promise<void> = async () => {}): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  const temporary = `${path}.${process.pid}-${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await beforeRename();
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await syncFolder(folder);
  await removeAbandoned(path);
}

/** Makes the rename itself durable; some file systems cannot, which costs nothing but that. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // the new file is complete either way; at worst a power cut brings the old one back
  }
}

/** Temporary files of this checkpoint left by runs that died between write and rename. */
async function removeAbandoned(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const folder = dirname(path);
  for (const name of await readdir(folder)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const leftover = join(folder, name);
    const age = Date.now() - (await stat(leftover).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > ABANDONED_AFTER_MS) await unlink(leftover).catch(() => {});
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
