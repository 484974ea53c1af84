// The code cache `latchkey token`'s quick script runs from (src/cli/script-cache.ts) can only make it start faster:
// written after a run, used by the next, and a damaged, foreign or refused cache changes nothing the script does.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCacheDir } from '../../src/cli/compile-cache.ts';
import { runCachedScript } from '../../src/cli/script-cache.ts';

// A script shaped as the build makes quick-token.cjs: CommonJS, Node's modules only, an exported async `run`.
const SCRIPT = `"use strict";
const node_path = require("node:path");
function double(value) { return value * 2; }
async function run(value, name) { return { doubled: double(value), joined: node_path.join("a", name) }; }
exports.run = run;
`;

describe('the quick script’s code cache', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'latchkey-script-cache-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A script and a cache folder of their own under `root/name`. */
  const setup = async (name: string, source = SCRIPT) => {
    await mkdir(join(root, name), { recursive: true });
    const script = join(root, name, 'script.cjs');
    await writeFile(script, source);
    const env = { XDG_CACHE_HOME: join(root, name, 'cache') };
    const cacheFile = join(compileCacheDir(env), 'script.v8');
    const run = () => runCachedScript<{ doubled: number; joined: string }>(script, 'script', env, [21, 'b']);
    return { script, env, cacheFile, run };
  };
  const expected = { result: { doubled: 42, joined: join('a', 'b') } };

  it('is written after the first run (0600) and used by the next without being written again', async () => {
    const { cacheFile, run } = await setup('fresh');
    expect(await run()).toEqual(expected);
    const written = await stat(cacheFile);
    expect(written.mode & 0o777).toBe(0o600);
    expect(await run()).toEqual(expected);
    const after = await stat(cacheFile);
    // Not rewritten: V8 took it (a refused or damaged cache is written again, below).
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('a run that declined writes a cache marked partial; the next run that answers writes it again, with its whole path; then it is kept', async () => {
    // As the quick script declines when the session must decide (no sign-in yet, say): its first run may be such a one.
    const declining = SCRIPT.replace('async function run(value, name) {', 'async function run(value, name) {\n  if (value === 0) return undefined;').replace(
      'function double(value) { return value * 2; }',
      ['function double(value) { return twice(value) / 2; }', 'function twice(value) { return [value, value].map((part) => part * 2).reduce((a, b) => a + b, 0); }'].join('\n'),
    );
    const { script, env, cacheFile } = await setup('declined-first', declining);
    const runWith = (value: number) => runCachedScript(script, 'script', env, [value, 'b']);
    expect(await runWith(0)).toEqual({ result: undefined });
    const partial = await stat(cacheFile);
    expect(await runWith(21)).toEqual(expected);
    const whole = await stat(cacheFile);
    // Replaced (a new file renamed over it), and it now holds the functions the answer needed.
    expect(whole.ino).not.toBe(partial.ino);
    expect(whole.size).toBeGreaterThan(partial.size);
    // Neither a declining run nor an answering one replaces a cache an answering run wrote.
    expect(await runWith(0)).toEqual({ result: undefined });
    expect(await runWith(21)).toEqual(expected);
    const after = await stat(cacheFile);
    expect([after.ino, after.mtimeMs]).toEqual([whole.ino, whole.mtimeMs]);
  });

  it('a damaged cache is ignored — the same result — and written again whole', async () => {
    const { cacheFile, run } = await setup('damaged');
    await run();
    const good = await readFile(cacheFile);
    const oneByteFlipped = Buffer.from(good);
    oneByteFlipped[good.length - 10] = oneByteFlipped[good.length - 10]! ^ 0xff;
    for (const damaged of [oneByteFlipped, good.subarray(0, good.length - 1), good.subarray(0, 5), Buffer.from('not a cache at all'), Buffer.alloc(0)]) {
      await writeFile(cacheFile, damaged);
      expect(await run()).toEqual(expected);
      const rewritten = await stat(cacheFile);
      expect(rewritten.size).toBeGreaterThan(1_000);
      // Whole: the next run takes it (as ours, and V8 does) and leaves it as it is. (Not compared with the first
      // file byte for byte: which functions V8 still holds compiled when it writes one varies a little.)
      expect(await run()).toEqual(expected);
      const next = await stat(cacheFile);
      expect([next.ino, next.mtimeMs]).toEqual([rewritten.ino, rewritten.mtimeMs]);
    }
  });

  it('a cache V8 refuses (another script’s) is ignored and replaced', async () => {
    const first = await setup('other-script');
    await first.run();
    const other = await readFile(first.cacheFile);
    await writeFile(first.script, SCRIPT.replace('value * 2', 'value + value'));
    expect(await first.run()).toEqual(expected);
    expect((await readFile(first.cacheFile)).equals(other)).toBe(false);
  });

  it('no script (an unbundled checkout): undefined, and nothing is written', async () => {
    const { env, run, script } = await setup('missing');
    await rm(script);
    expect(await run()).toBeUndefined();
    await expect(stat(join(compileCacheDir(env), 'script.v8'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a cache folder others may write to, or NODE_DISABLE_COMPILE_CACHE, means no cache read or written', async () => {
    const open = await setup('open-folder');
    await mkdir(compileCacheDir(open.env), { recursive: true });
    await chmod(compileCacheDir(open.env), 0o777);
    expect(await open.run()).toEqual(expected);
    await expect(stat(open.cacheFile)).rejects.toMatchObject({ code: 'ENOENT' });

    const disabled = await setup('disabled');
    const env = { ...disabled.env, NODE_DISABLE_COMPILE_CACHE: '1' };
    expect(await runCachedScript(disabled.script, 'script', env, [21, 'b'])).toEqual(expected);
    await expect(stat(disabled.cacheFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives the script Node’s modules only', async () => {
    const { run } = await setup('npm-require', SCRIPT.replace('require("node:path")', 'require("undici")'));
    await expect(run()).rejects.toThrow(/Node's modules only, not undici/);
  });
});
