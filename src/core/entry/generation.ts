import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertPrivateFolder } from './lock-folder.ts';

// The keychain entry's generation: a file beside the lock that a holder rewrites whenever it changes the
// entry, so other processes know when what they hold (or a shared access token) is out of date.

/**
 * Announces a change of the keychain entry guarded by the lock at `path`
 * (see `RefreshLock.readGeneration`). Holders call it through their lock.
 */
export function announceEntryChange(path: string): string {
  const generation = randomUUID();
  assertPrivateFolder(join(path, '..'));
  // Written in place: a reader that catches it half-written sees a value nobody
  // knows, which only makes it re-read the keychain — safe, and cheaper than a rename.
  writeFileSync(generationPathOf(path), generation, { mode: 0o600 });
  return generation;
}

/**
 * The generation last announced for the keychain entry guarded by the lock at
 * `path` (see `RefreshLock.readGeneration`), read without taking the lock:
 * what a shared access token must have been written at to be handed out.
 */
export function readEntryGeneration(path: string): string | undefined {
  try {
    return readFileSync(generationPathOf(path), 'utf8') || undefined;
  } catch {
    return undefined;
  }
}

export function generationPathOf(path: string): string {
  return path.replace(/\.lock$/, '') + '.generation';
}
