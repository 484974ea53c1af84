import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fstatSync, futimesSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFile, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuthError } from '../errors.ts';
import { assertPrivateFolder, codeOf } from './lock-folder.ts';
import { writeFileAtomically } from './profile-cache.ts';
import type { Logger } from '../../shared/logger.ts';
import { backgroundTimers, delay, realTimers, type Timers } from '../timers.ts';


export interface EntryLockOptions {
  /** Give up waiting for a live holder after this long. */
  timeoutMs?: number;
  /** A lock whose heartbeat has not moved for this long is taken over: its holder is dead or stopped. */
  staleAfterMs?: number;
  /** How often a holder touches its lock. */
  heartbeatMs?: number;
  /** Staleness and deadlines are judged on this clock (default `performance.now`: monotonic, so a wall-clock jump or a suspended machine is not mistaken for a dead holder). */
  clock?: () => number;
  /** Waiters poll and holders beat on these (default: the process's; a wait keeps the process alive, a heartbeat does not). */
  timers?: Timers;
  /** Called once, when the lock turns out to be held by someone else (to show "waiting for …"). */
  onWait?: () => void;
  logger?: Logger;
}

/** What a lock file holds: who took it, for diagnostics. Never anything secret. */
interface LockOwner {
  pid: number;
  hostname: string;
  nonce: string;
}

interface ObservedLock {
  ino: number;
  mtimeMs: number;
}

// A holder touches its lock every second from a synchronous timer callback, so a
// keychain call stuck in the thread pool cannot stop the heartbeat; five missed
// beats mean the holder is dead (SIGKILL, crash) or stopped (SIGSTOP, debugger).
const DEFAULT_HEARTBEAT_MS = 1_000;
const DEFAULT_STALE_AFTER_MS = 5_000;
// The longest a live holder takes is a refresh (15 s headers timeout) plus JWKS
// and keychain calls: waiters give up only well after that.
const DEFAULT_TIMEOUT_MS = 75_000;
const BREAKER_STALE_AFTER_MS = 5_000;

/**
 * The lock file that serializes every use of one keychain entry (service +
 * account) across all processes of this user: the entry is what is shared, so
 * it is what is locked — two processes with different data folders still meet here.
 */
export function entryLockPath(lockDir: string, service: string, account: string): string {
  return join(lockDir, `${lockId(lockDir, `${service}\n${account}`)}.lock`);
}

/**
 * The lock files' names are SHA-256 of the entry's service and account (every version of Latchkey names them so, and
 * all must meet on the same file); the names computed are kept in `lock-names.json` beside them, so a command that
 * only reads — `latchkey token` with a fresh shared token — hashes nothing and never loads node:crypto (about a tenth
 * of its start). A name not listed, or a file that is not a list of such names, is computed again and written.
 */
export const LOCK_NAMES_FILE = 'lock-names.json';
const LOCK_NAME = /^[0-9a-f]{32}$/;
const MAX_LOCK_NAMES = 256;
const lockNames = new Map<string, Map<string, string>>();

function lockId(lockDir: string, key: string): string {
  let names = lockNames.get(lockDir);
  if (!names) lockNames.set(lockDir, (names = readLockNames(join(lockDir, LOCK_NAMES_FILE))));
  const known = names.get(key);
  if (known) return known;
  const id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  names.set(key, id);
  for (const oldest of names.keys()) {
    if (names.size <= MAX_LOCK_NAMES) break;
    names.delete(oldest);
  }
  try {
    // Only into the private folder the locks are in (lock-folder.ts makes it): never a folder of its own.
    assertPrivateFolder(lockDir);
    writeFileAtomically(join(lockDir, LOCK_NAMES_FILE), JSON.stringify({ v: 1, names: Object.fromEntries(names) }));
  } catch {
    // Not kept: the next process computes it again.
  }
  return id;
}

function readLockNames(path: string): Map<string, string> {
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as { v?: unknown; names?: unknown };
    if (file.v !== 1 || typeof file.names !== 'object' || file.names === null) return new Map();
    return new Map(Object.entries(file.names).filter((pair): pair is [string, string] => typeof pair[1] === 'string' && LOCK_NAME.test(pair[1])));
  } catch {
    return new Map();
  }
}

/** A held lock. The holder may read and announce changes of the keychain entry it guards. */
export interface EntryLock {
  /**
   * The last change of the keychain entry announced by any process, or
   * undefined if none was. A holder that saw this same value when it last read
   * or wrote the entry knows the entry still holds what it has in memory, and
   * can skip re-reading the keychain.
   */
  readGeneration(): string | undefined;
  /** Announces, before changing the keychain entry, that it is about to change; returns the new generation. */
  announceChange(): string;
  /**
   * False once released, or when another process took the lock over (this one
   * stalled past the stale bound: SIGSTOP, Ctrl-Z, a debugger). Touches the
   * heartbeat first, so a waiter watching it needs a whole stale bound again
   * before it may take over.
   */
  isHeld(): boolean;
  /** Throws unless `isHeld()`: call it before redeeming and before each write of the entry. */
  assertHeld(): void;
  /** `announceChange` with the file written on the thread pool: for a holder whose main thread has other work meanwhile (a refresh's response checks). */
  announceChangeSoon(): Promise<string>;
  release(): Promise<void>;
}

/**
 * Runs `critical` while holding the lock file at `path`, so that of all the
 * processes sharing a keychain entry (the app, any number of CLIs) only one
 * redeems its refresh token at a time — under rotation, redeeming the same
 * token twice revokes the whole family (RFC 9700 §4.14.2).
 *
 * Liveness, not age, decides when a lock may be taken over: the holder touches
 * the file's mtime every `heartbeatMs`, and a waiter takes the lock over only
 * after watching that mtime stand still for `staleAfterMs` of its own
 * monotonic clock — a holder that is alive, however slow, is never taken
 * over; one that died is, within seconds. The lock is always released, also
 * when `critical` throws.
 */
export async function withEntryLock<T>(path: string, critical: (lock: EntryLock) => Promise<T>, options: EntryLockOptions = {}): Promise<T> {
  const lock = await acquireEntryLock(path, options);
  try {
    return await critical(lock);
  } finally {
    await lock.release();
  }
}

/** Takes the lock at `path` (see `withRefreshLock`); the caller must `release()` it. */
export async function acquireEntryLock(path: string, options: EntryLockOptions = {}): Promise<EntryLock> {
  // The global `performance`: importing node:perf_hooks also loads its event-loop and worker parts.
  const clock = options.clock ?? (() => performance.now());
  const timers = options.timers ?? realTimers;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const deadline = clock() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), nonce: randomUUID() };
  assertPrivateFolder(join(path, '..'));

  let watched: (ObservedLock & { since: number }) | undefined;
  let announcedWait = false;
  for (let attempt = 0; ; attempt++) {
    const fd = tryCreate(path, owner);
    if (fd !== undefined) return heldLock(path, fd, { ...options, clock, staleAfterMs });
    const observed = observe(path);
    if (!observed) continue;
    const now = clock();
    if (!watched || watched.ino !== observed.ino || watched.mtimeMs !== observed.mtimeMs) {
      watched = { ...observed, since: now };
    } else if (now - watched.since >= staleAfterMs) {
      options.logger?.warn('taking over an entry lock whose holder stopped (no heartbeat)', { stillForMs: Math.round(now - watched.since), holder: readOwner(path)?.pid });
      breakLock(path, observed);
      watched = undefined;
      continue;
    }
    if (now >= deadline) {
      throw new AuthError('provider_unreachable', 'Another Latchkey process has been refreshing this session for too long; try again in a moment.');
    }
    if (!announcedWait) {
      announcedWait = true;
      options.onWait?.();
    }
    await delay(timers, Math.min(5 * 1.5 ** attempt, 50) * (0.5 + Math.random()));
  }
}

function heldLock(path: string, fd: number, options: EntryLockOptions & { clock: () => number; staleAfterMs: number }): EntryLock {
  const { clock, staleAfterMs, logger } = options;
  const timers = options.timers ?? backgroundTimers;
  let lastBeat = clock();
  let stamp = 0;
  let released = false;
  const beat = () => {
    try {
      // Waiters only compare the mtime with what they saw before: it must change on every beat.
      stamp = Math.max(Date.now() / 1000, stamp + 0.001);
      futimesSync(fd, stamp, stamp);
      if (fstatSync(fd).nlink === 0) logger?.warn('the entry lock was taken over while held (this process stopped for longer than the stale bound)');
      else lastBeat = clock();
    } catch (error) {
      logger?.warn('could not refresh the lock heartbeat', { error: String(error) });
    }
  };
  let heartbeat: unknown;
  const schedule = () => {
    heartbeat = timers.setTimeout(() => {
      beat();
      if (!released) schedule();
    }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  };
  schedule();
  // Beat first: a breaker that judged the old mtime then puts the lock back (`breakLock`), and a
  // waiter starts its stale bound over. Then the file at `path` must still be the one we created.
  const isHeld = (): boolean => {
    if (released) return false;
    beat();
    try {
      const ours = fstatSync(fd);
      return ours.nlink > 0 && observe(path)?.ino === ours.ino;
    } catch {
      return false;
    }
  };
  return {
    readGeneration: () => readEntryGeneration(path),
    announceChange: () => announceEntryChange(path),
    isHeld,
    assertHeld() {
      if (isHeld()) return;
      logger?.warn('the entry lock was taken over while held; this process redeems and stores nothing');
      throw new AuthError(
        'provider_unreachable',
        'This Latchkey process was paused while it held the session’s lock, and another Latchkey process has taken over, so this one stopped without using or storing anything. Try again.',
      );
    },
    announceChangeSoon: async () => {
      const generation = randomUUID();
      assertPrivateFolder(join(path, '..'));
      // Callback fs, not fs/promises: that module (and the readline code it loads) would cost every `latchkey token` its start.
      await new Promise<void>((resolve, reject) => writeFile(generationPathOf(path), generation, { mode: 0o600 }, (error) => (error ? reject(error) : resolve())));
      return generation;
    },
    async release() {
      if (released) return;
      released = true;
      timers.clearTimeout(heartbeat);
      // Waiters take over only a lock whose mtime stood still for `staleAfterMs`. Our
      // last beat is younger than half that, so nobody can have taken it over: the
      // file at `path` is ours and is removed without a check-then-delete race.
      if (clock() - lastBeat < staleAfterMs / 2) removeOwnLock(path);
      else releaseAfterStall(path, fd, logger);
      closeSync(fd);
    },
  };
}

// The uncontended path is synchronous on purpose: a few microseconds of local
// file work, instead of a thread-pool round trip per call on every refresh.
function tryCreate(path: string, owner: LockOwner): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return undefined;
    throw error;
  }
  writeSync(fd, JSON.stringify(owner));
  return fd;
}

function observe(path: string): ObservedLock | undefined {
  try {
    const info = statSync(path);
    return { ino: info.ino, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock without racing other waiters that judged it stale too:
 * breakers serialize on a second O_EXCL file, move the lock aside atomically
 * and keep it only if it is still the very file they judged; a fresh lock
 * someone took meanwhile is put back.
 */
function breakLock(path: string, judged: ObservedLock): void {
  const breakerPath = `${path}.break`;
  let breaker: number;
  try {
    breaker = openSync(breakerPath, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
    const info = observe(breakerPath);
    if (info && Date.now() - info.mtimeMs > BREAKER_STALE_AFTER_MS) removeOwnLock(breakerPath);
    return;
  }
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    renameSync(path, aside);
    const moved = observe(aside);
    if (moved && (moved.ino !== judged.ino || moved.mtimeMs !== judged.mtimeMs)) {
      try {
        linkSync(aside, path);
      } catch {
        // Someone took the lock in the meantime; the one we moved was released already.
      }
    }
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  } finally {
    removeOwnLock(aside);
    closeSync(breaker);
    removeOwnLock(breakerPath);
  }
}

/** After this process stalled past the stale bound: remove the lock only if it is still our file. */
function releaseAfterStall(path: string, fd: number, logger?: Logger): void {
  const ours = fstatSync(fd);
  const current = observe(path);
  if (ours.nlink > 0 && current?.ino === ours.ino) removeOwnLock(path);
  else logger?.warn('the entry lock was taken over while held (this process stopped for longer than the stale bound)');
}

function removeOwnLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

// The keychain entry's generation: a file beside the lock that a holder rewrites whenever it changes the
// entry, so other processes know when what they hold (or a shared access token) is out of date.

/**
 * Announces a change of the keychain entry guarded by the lock at `path`
 * (see `EntryLock.readGeneration`). Holders call it through their lock.
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
 * `path` (see `EntryLock.readGeneration`), read without taking the lock:
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
