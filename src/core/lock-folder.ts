import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

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
export function userLockDir(platform: NodeJS.Platform = process.platform): string {
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
