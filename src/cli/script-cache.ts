import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateCompileCacheDir } from './compile-cache.ts';

/** Built-in modules the script gets on first use instead of at its start (node:crypto alone is some twenty modules). */
const LOADED_WHEN_USED = new Set(['node:crypto', 'node:fs/promises']);

/**
 * Runs the CommonJS script at `path` (its only `require`s are Node's built-in modules) and calls its exported `run`
 * with `args`, compiled from a V8 code cache kept as `<name>.v8` in the compile cache folder (compile-cache.ts).
 * The cache is written after a run (V8's `createCachedData`), so it holds every function that run compiled — what
 * Node's module compile cache cannot: it keeps only what a module compiles when it loads, and a short command
 * spends more time compiling the functions it calls than loading. A run whose `run` gives undefined declined (the
 * quick script: the session decides) and compiled only part of the path, so the cache it writes is marked partial
 * and the next run that answers writes it again: otherwise a first `latchkey token` before any sign-in would leave
 * every later one compiling the rest of its path (about 6% of its instructions, docs/benchmarks.md). The cache can
 * only make the start faster: a file that is damaged, or that V8 refuses (another Node, another script), is ignored
 * and written again; without a private cache folder nothing is read or written. Undefined when there is no such
 * script (an unbundled checkout).
 */
export async function runCachedScript<T>(path: string, name: string, env: NodeJS.ProcessEnv, args: unknown[]): Promise<{ result: T } | undefined> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const dir = privateCompileCacheDir(env);
  const cachePath = dir === undefined ? undefined : join(dir, `${name}.v8`);
  const cached = cachePath === undefined ? undefined : readCache(cachePath);
  const cachedData = cached?.data;
  // node:vm taken here, not imported: main.js loads this file for `--help` too.
  const { Script } = process.getBuiltinModule('node:vm');
  const script = new Script(`(function (exports, require) {${source}\n})`, { filename: path, ...(cachedData ? { cachedData } : {}) });
  const exports: { run?: (...given: unknown[]) => Promise<T> } = {};
  (script.runInThisContext() as (exports: object, require: (id: string) => unknown) => void)(exports, requireBuiltin);
  if (typeof exports.run !== 'function') throw new Error(`${path} exports no run()`);
  const result = await exports.run(...args);
  const answered = result !== undefined;
  if (cachePath !== undefined && (!cached || script.cachedDataRejected || (answered && !cached.answered))) writeCache(cachePath, script.createCachedData(), answered);
  return { result };
}

function requireBuiltin(id: string): unknown {
  if (!id.startsWith('node:')) throw new Error(`a cached script may require Node's modules only, not ${id}`);
  if (!LOADED_WHEN_USED.has(id)) return process.getBuiltinModule(id);
  return new Proxy({}, { get: (_target, key) => (process.getBuiltinModule(id) as Record<string | symbol, unknown>)[key] });
}

const MAGIC = 0x4c4b5633; // "LKV3"
const HEADER_BYTES = 12;

/** A cache file's data, and whether the run that wrote it answered (else it holds part of the path only). */
interface CachedScript {
  data: Buffer;
  answered: boolean;
}

/**
 * The cached data, when the file is one of ours and whole; else undefined. V8 checks its version, flags, the
 * script's source and the data's length, not the bytes themselves, so the file holds the data twice and a file whose
 * two copies differ is damaged: a byte comparison, where a checksum computed here would cost more than it saves.
 * The header: the magic, the data's length, and 1 when the run that wrote it answered (a wrong flag costs one write
 * more or less, never a wrong result).
 */
function readCache(path: string): CachedScript | undefined {
  try {
    const file = readFileSync(path);
    if (file.length < HEADER_BYTES || file.readUInt32BE(0) !== MAGIC) return undefined;
    const length = file.readUInt32BE(4);
    if (file.length !== HEADER_BYTES + 2 * length) return undefined;
    const data = file.subarray(HEADER_BYTES, HEADER_BYTES + length);
    return data.equals(file.subarray(HEADER_BYTES + length)) ? { data, answered: file.readUInt32BE(8) === 1 } : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a temporary file renamed over it), 0600, in the private folder; a failure leaves no cache. */
function writeCache(path: string, data: Buffer, answered: boolean): void {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(data.length, 4);
  header.writeUInt32BE(answered ? 1 : 0, 8);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, Buffer.concat([header, data, data]), { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch {
    rmSync(temporary, { force: true });
  }
}
