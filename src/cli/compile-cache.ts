import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where the CLI keeps V8's compiled code of its own modules (Node's module compile cache): the user's cache folder —
 * `$XDG_CACHE_HOME/latchkey`, else `~/.cache/latchkey` (`~/Library/Caches/Latchkey` on macOS,
 * `%LOCALAPPDATA%\Latchkey` on Windows) — in `compile-cache/`. Code only: no token or setting is ever written there,
 * and it is never the data folder or the keychain's place.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'latchkey', 'compile-cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'Latchkey', 'compile-cache');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Latchkey', 'compile-cache');
  return join(homedir(), '.cache', 'latchkey', 'compile-cache');
}

/**
 * Turns on Node's module compile cache (Node ≥ 22.1) in `compileCacheDir`, so a command's modules load from
 * compiled code instead of being parsed and compiled again each run. It can only make a start faster, never change
 * what runs: Node checks each cached entry against the module's source and recompiles on any mismatch (a corrupt
 * or stale file is ignored and rewritten). A folder that is not a plain folder of this user, closed to others, is
 * not used at all — compiled code someone else could write would run as ours. Any failure leaves the cache off.
 * Returns the folder in use, or undefined.
 */
export function startCompileCache(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    // Taken here, not imported: main.js loads this file for `--help` too, which needs no cache.
    const { constants, enableCompileCache } = process.getBuiltinModule('node:module');
    if (typeof enableCompileCache !== 'function') return undefined;
    const dir = privateCompileCacheDir(env);
    if (dir === undefined) return undefined;
    const result = enableCompileCache(dir);
    const on = result.status === constants.compileCacheStatus.ENABLED || result.status === constants.compileCacheStatus.ALREADY_ENABLED;
    return on ? result.directory : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `compileCacheDir`, made when missing, when it is a real folder of this user that no one else may write to (compiled
 * code someone else could write would run as ours); else undefined, and nothing is cached. NODE_DISABLE_COMPILE_CACHE
 * turns every cache off.
 */
export function privateCompileCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    const dir = compileCacheDir(env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return isPrivateFolder(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A real folder (no symlink), owned by this user, that no one else may write to; so is the `latchkey` folder above it. */
function isPrivateFolder(dir: string): boolean {
  const uid = process.getuid?.();
  return [dir, join(dir, '..')].every((folder) => {
    const info = lstatSync(folder);
    return info.isDirectory() && (uid === undefined || (info.uid === uid && (info.mode & 0o022) === 0));
  });
}
