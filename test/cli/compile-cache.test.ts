// The CLI's module compile cache (src/cli/compile-cache.ts) can only make a start faster: a corrupt cache, or a
// cache folder that is not the user's own, changes nothing a command does — real processes, the real keychain.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../src/cli/compile-cache.ts';
import { runCli, type CliResult } from '../helpers/cli.ts';

describe('the compile cache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'latchkey-compile-cache-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A CLI with a data folder and cache folder of its own under `root/name`, no session stored. */
  const setup = (name: string) => {
    const env = { ...process.env, AUTH_DATA_DIR: join(root, name, 'data'), AUTH_KEYCHAIN_SERVICE: `latchkey-test-compile-cache-${randomUUID()}`, XDG_CACHE_HOME: join(root, name, 'cache') };
    const cacheDir = compileCacheDir(env);
    const status = () => runCli(['status', '--json'], env);
    return { env, cacheDir, status };
  };
  const filesIn = async (dir: string): Promise<string[]> =>
    (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  const answer = (run: CliResult) => ({ code: run.code, stdout: run.stdout, stderr: run.stderr });

  it('is written in the user cache folder on the first command, and a command answers the same from it', async () => {
    const { cacheDir, status } = setup('fresh');
    expect(cacheDir).toBe(join(root, 'fresh', 'cache', 'latchkey', 'compile-cache'));
    const first = await status();
    expect(first.code, first.stderr).toBe(1);
    expect(JSON.parse(first.stdout)).toMatchObject({ signedIn: false });
    expect((await filesIn(cacheDir)).length).toBeGreaterThan(10);
    expect(answer(await status())).toEqual(answer(first));
  });

  it('a corrupt cache is ignored: the same answer, and the garbage is replaced by compiled code', async () => {
    const { cacheDir, status } = setup('corrupt');
    const clean = await status();
    const files = await filesIn(cacheDir);
    expect(files.length).toBeGreaterThan(10);
    // Every entry overwritten: random bytes of the same length in half, a few bytes only in the other half.
    const garbage = new Map<string, Buffer>();
    for (const [i, file] of files.entries()) {
      const bytes = i % 2 === 0 ? randomBytes((await readFile(file)).length) : randomBytes(7);
      garbage.set(file, bytes);
      await writeFile(file, bytes);
    }
    const afterCorruption = await status();
    expect(answer(afterCorruption)).toEqual(answer(clean));
    // Node found each entry's checksum wrong, compiled the module from source and wrote the entry again.
    const rewritten = [];
    for (const [file, bytes] of garbage) if (!(await readFile(file)).equals(bytes)) rewritten.push(file);
    expect(rewritten.length).toBeGreaterThan(files.length / 2);
    expect(answer(await status())).toEqual(answer(clean));
  });

  it('a cache folder others may write to, or a file where the folder should be, is not used at all, and changes nothing', async () => {
    const reference = answer(await setup('reference').status());

    const open = setup('open');
    await mkdir(open.cacheDir, { recursive: true });
    await chmod(open.cacheDir, 0o777);
    expect(answer(await open.status())).toEqual(reference);
    expect(await filesIn(open.cacheDir)).toEqual([]);

    const notAFolder = setup('file');
    await mkdir(join(notAFolder.cacheDir, '..'), { recursive: true });
    await writeFile(notAFolder.cacheDir, 'not a folder');
    expect(answer(await notAFolder.status())).toEqual(reference);
    expect(await readFile(notAFolder.cacheDir, 'utf8')).toBe('not a folder');
  });
});
