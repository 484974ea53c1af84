import { lstatSync, mkdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '../errors.ts';

// Where the cross-process locks live (lock.ts), and the check that nobody else can use that folder.

/**
 * The folder of this user's session locks, derived from the user — the home
 * folder the OS account database names — and never from the environment:
 * processes of one user whose `XDG_RUNTIME_DIR`, `TMPDIR` or `HOME` differ
 * (cron, `su`, Flatpak or Snap, a macOS GUI app beside an ssh session) must
 * all meet at the same lock, or two of them redeem one refresh token
 * (RFC 9700 §4.14.2). Inside the home folder, no other local user can
 * pre-create it to block or steer our locks, as they can in a shared temp
 * folder. It is the app's cache folder, made 0700 and checked when a lock is
 * taken (`assertPrivateFolder`).
 */
export function defaultLockDir(platform: NodeJS.Platform = process.platform): string {
  const home = accountHome();
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'Latchkey', 'locks');
  if (platform === 'win32') return join(home, 'AppData', 'Local', 'Latchkey', 'locks');
  return join(home, '.cache', 'latchkey', 'locks');
}

function accountHome(): string {
  try {
    return userInfo().homedir;
  } catch {
    // No entry in the account database (a container started with an arbitrary uid): every process
    // of that uid is in the same position, and HOME is all there is.
    return homedir();
  }
}

/**
 * Creates `dir` (0700) if needed and refuses it unless it is a real folder,
 * owned by this user and closed to everyone else: another user could
 * pre-create it, or plant a symlink, to read or steer our locks (or reach our agent's socket).
 */
export function assertPrivateFolder(dir: string, what = 'lock folder'): void {
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
    throw new AuthError('config_invalid', `The ${what} ${dir} cannot be trusted: ${problem}. Remove it (Latchkey recreates it, private to you).`);
  }
}

export function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
