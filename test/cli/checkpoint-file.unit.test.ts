// The checkpoint files on disk: where each lives, that its name is safe whatever the address
// and tenant, and that writing it is all or nothing, for two writers at once and for a
// writer that dies between writing its temporary file and renaming it.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointFilePath, readCheckpointFile, writeFileAtomically } from '../../src/cli/checkpoint-file.ts';
import { PROJECT_ROOT } from '../support/child-process.ts';

let cacheHome = '';
beforeEach(async () => {
  cacheHome = await mkdtemp(join(tmpdir(), 'checkpoint-file-'));
});
afterEach(async () => {
  await rm(cacheHome, { recursive: true, force: true });
});

describe('where the checkpoint file lives', () => {
  it('is one file per address, tenant and read model, in a folder named after the project, under XDG_CACHE_HOME', () => {
    const env = { XDG_CACHE_HOME: cacheHome };
    const where = { address: '127.0.0.1:50051', tenantId: 'example-tenant', readModel: 'AccountSummary' };
    const path = checkpointFilePath(where, env);
    expect(dirname(path)).toBe(join(cacheHome, 'cqrs-bank-example'));
    expect(basename(path)).toMatch(/^read-models-[0-9a-f]{32}-AccountSummary\.json$/);
    expect(checkpointFilePath(where, env)).toBe(path);
    expect(checkpointFilePath({ ...where, address: '127.0.0.1:50052' }, env)).not.toBe(path);
    expect(checkpointFilePath({ ...where, tenantId: 'other' }, env)).not.toBe(path);
    const history = checkpointFilePath({ ...where, readModel: 'TransactionHistory' }, env);
    expect(basename(history)).toBe(basename(path).replace('AccountSummary', 'TransactionHistory'));
    // A name that would be a path, or two that would run together, still make safe, distinct names.
    const hostile = checkpointFilePath({ address: '../../etc', tenantId: '/passwd\0', readModel: 'AccountSummary' }, env);
    expect(dirname(hostile)).toBe(join(cacheHome, 'cqrs-bank-example'));
    const runTogether = (address: string, tenantId: string) => checkpointFilePath({ address, tenantId, readModel: 'AccountSummary' }, env);
    expect(runTogether('a:1', 'b')).not.toBe(runTogether('a', ':1b'));
  });

  it('is under ~/.cache when XDG_CACHE_HOME is unset, empty or relative', () => {
    const where = { address: 'a', tenantId: 'b', readModel: 'AccountSummary' };
    for (const env of [{}, { XDG_CACHE_HOME: '' }, { XDG_CACHE_HOME: 'relative/cache' }]) {
      expect(dirname(checkpointFilePath(where, env))).toBe(join(homedir(), '.cache', 'cqrs-bank-example'));
    }
  });
});

describe('writing the checkpoint file', () => {
  it('leaves a file readable by its owner alone, in a folder only its owner can enter', async () => {
    const path = fileIn(cacheHome);
    await writeFileAtomically(path, '{"saved":1}');
    expect(await readCheckpointFile(path)).toEqual({ found: true, text: '{"saved":1}' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    expect(await readCheckpointFile(`${path}.missing`)).toEqual({ found: false });
  });

  it('leaves one whole file, never a mix, when two write at once', async () => {
    const path = fileIn(cacheHome);
    // Several megabytes each, so the writes go out in many pieces and interleave.
    const contents = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(4 * 1024 * 1024 + letter.charCodeAt(0)));
    for (let round = 0; round < 3; round++) {
      await Promise.all(contents.map((text) => writeFileAtomically(path, text)));
      const text = (await readFile(path, 'utf8'));
      expect(contents.includes(text), `round ${round}: a file of ${text.length} characters, starting ${text.slice(0, 3)}, ending ${text.slice(-3)}`).toBe(true);
    }
    expect(await readdir(dirname(path))).toEqual([basename(path)]); // no temporary file left behind
  });

  it('keeps the old file whole when the writer dies between its temporary file and the rename', async () => {
    const path = fileIn(cacheHome);
    await writeFileAtomically(path, 'the old checkpoint');
    const died = await writerKilledBeforeRename(path, 'the new checkpoint');
    expect(died.signal).toBe('SIGKILL');
    expect(await readFile(path, 'utf8')).toBe('the old checkpoint');
    const leftovers = (await readdir(dirname(path))).filter((name) => name.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1);

    // The next save replaces the file, and clears the dead writer's temporary file once it is old.
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dirname(path), leftovers[0]!), longAgo, longAgo);
    await writeFileAtomically(path, 'a later checkpoint');
    expect(await readFile(path, 'utf8')).toBe('a later checkpoint');
    expect(await readdir(dirname(path))).toEqual([basename(path)]);
  });

  it('fails, leaving nothing behind, where no folder can be made', async () => {
    const blocker = join(cacheHome, 'a-file');
    await writeFile(blocker, 'not a folder');
    await expect(writeFileAtomically(join(blocker, 'cqrs-bank-example', 'read-models.json'), 'x')).rejects.toThrow();
    expect(await readdir(cacheHome)).toEqual(['a-file']);
  });
});

// ---- fixtures -------------------------------------------------------------------------

function fileIn(home: string): string {
  return checkpointFilePath({ address: '127.0.0.1:50051', tenantId: 'tenant-1', readModel: 'AccountSummary' }, { XDG_CACHE_HOME: home });
}

/**
 * A process that writes `text` as the checkpoint and is killed with SIGKILL the moment its
 * temporary file is complete and the rename is next: a crash at the worst point.
 */
function writerKilledBeforeRename(path: string, text: string): Promise<{ signal: NodeJS.Signals | null }> {
  const script = `
    import { writeFileAtomically } from ${JSON.stringify(join(PROJECT_ROOT, 'src/cli/checkpoint-file.ts'))};
    await writeFileAtomically(${JSON.stringify(path)}, ${JSON.stringify(text)}, async () => {
      process.stdout.write('before rename\\n');
      await new Promise(() => setInterval(() => {}, 1000));
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not reach its rename in 30 s:\n${output}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('before rename')) child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (_, signal) => {
      clearTimeout(timer);
      resolve({ signal });
    });
  });
}
