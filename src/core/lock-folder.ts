import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError } from './errors.ts';

// Where the cross-process locks live (refresh-lock.ts), and the check that nobody else can use that folder.

/**
 * The folder every process of this user finds, whatever its data folder:
 * `$XDG_RUNTIME_DIR/latchkey` where the session has one, else
 * `<os temp dir>/latchkey-<uid>`. It is checked when a lock is taken
 * (`assertPrivateFolder`).
 */
export function defaultLockDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir && runtimeDir.startsWith('/') && isDirectory(runtimeDir)) return join(runtimeDir, 'latchkey');
  const uid = process.getuid?.();
  return join(tmpdir(), uid === undefined ? 'latchkey' : `latchkey-${uid}`);
}

/**
 * Creates `dir` (0700) if needed and refuses it unless it is a real folder,
 * owned by this user and closed to everyone else: in a shared temp dir another
 * user could pre-create it, or plant a symlink, to read or steer our locks.
 */
export function assertPrivateFolder(dir: string): void {
  let info = lstatSync(dir, { throwIfNoEntry: false });
  if (!info) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
    }
    info = lstatSync(dir);
  }
  const uid = process.getuid?.();
  const problem = !info.isDirectory()
    ? 'it is not a folder (a symlink or a file)'
    : uid !== undefined && info.uid !== uid
      ? `it belongs to another user (uid ${info.uid})`
      : uid !== undefined && (info.mode & 0o077) !== 0
        ? `others may use it (mode ${(info.mode & 0o777).toString(8)})`
        : undefined;
  if (problem) {
    throw new AuthError('config_invalid', `The lock folder ${dir} cannot be trusted: ${problem}. Remove it (Latchkey recreates it, private to you), or set XDG_RUNTIME_DIR.`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
