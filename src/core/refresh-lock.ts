import { createHash, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuthError } from './errors.ts';
import type { Logger } from './log.ts';
import { delay, realTimers, type Timers } from './timers.ts';

export interface RefreshLockOptions {
  /** A lock older than this is taken over even if its holder still runs (a hung process must not block refreshes forever). */
  staleAfterMs?: number;
  /** Give up waiting after this long. */
  timeoutMs?: number;
  logger?: Logger;
  /** Ages and deadlines are judged on this clock (default Date.now). */
  clock?: () => number;
  /** Waiters poll on these (default: the process's). */
  timers?: Timers;
}

/** What a lock file holds: who took it and when. Never anything secret. */
interface LockOwner {
  pid: number;
  hostname: string;
  createdAt: number;
  nonce: string;
}

interface ObservedLock {
  raw: string;
  ino: number;
  mtimeMs: number;
  owner?: LockOwner;
}

// A live holder must never be judged stale while it may still redeem and store: the
// longest refresh under the lock is a keychain read and delete (5 s timeout each), the
// token request (openid-client's 30 s timeout) and a keychain write and delete (5 s
// each) — 50 s. Taking over earlier would let a second process redeem the same refresh
// token. Waiters wait longer than the stale bound, so a hung holder is still taken over.
const DEFAULT_STALE_AFTER_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 75_000;
const BREAKER_STALE_AFTER_MS = 5_000;

/** The lock file that serializes refreshes of one keychain entry across every process sharing `dataDir`. */
export function refreshLockPath(dataDir: string, account: string): string {
  const id = createHash('sha256').update(account).digest('hex').slice(0, 16);
  return join(dataDir, `refresh-${id}.lock`);
}

/** A held lock. The holder may read and announce changes of the keychain entry it guards. */
export interface RefreshLock {
  /**
   * The last change of the keychain entry announced by any process, or
   * undefined if none was. A holder that saw this same value when it last read
   * or wrote the entry knows the entry still holds what it has in memory, and
   * can skip re-reading the keychain.
   */
  readGeneration(): string | undefined;
  /** Announces, before changing the keychain entry, that it is about to change; returns the new generation. */
  announceChange(): string;
  release(): Promise<void>;
}

/**
 * Runs `critical` while holding the lock file at `path`, so that of all the
 * processes sharing a keychain entry (the app, any number of CLIs) only one
 * redeems its refresh token at a time — under rotation, redeeming the same
 * token twice revokes the whole family (RFC 9700 §4.14.2).
 *
 * The lock is a file created with O_EXCL holding its holder's pid and start
 * time. It is taken over when the holder is gone (pid dead) or the lock is
 * older than `staleAfterMs`. Waiters poll with a short, jittered delay. The
 * lock is always released, also when `critical` throws.
 */
export async function withRefreshLock<T>(path: string, critical: (lock: RefreshLock) => Promise<T>, options: RefreshLockOptions = {}): Promise<T> {
  const lock = await acquireRefreshLock(path, options);
  try {
    return await critical(lock);
  } finally {
    await lock.release();
  }
}

/** Takes the lock at `path` (see `withRefreshLock`); the caller must `release()` it. */
export async function acquireRefreshLock(path: string, options: RefreshLockOptions = {}): Promise<RefreshLock> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const clock = options.clock ?? Date.now;
  const timers = options.timers ?? realTimers;
  const deadline = clock() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), createdAt: clock(), nonce: randomUUID() };

  for (let attempt = 0; ; attempt++) {
    owner.createdAt = clock();
    if (tryCreate(path, owner)) return heldLock(path, owner, options.logger);
    const observed = await observe(path);
    if (observed && isStale(observed, staleAfterMs, clock())) {
      options.logger?.warn('taking over a stale refresh lock', { holderPid: observed.owner?.pid, ageMs: clock() - ageBase(observed) });
      await breakLock(path, observed, clock, timers);
      continue;
    }
    if (clock() >= deadline) {
      throw new AuthError(
        'provider_unreachable',
        'Another Latchkey process has been refreshing this session for too long; try again in a moment.',
      );
    }
    await delay(timers, Math.min(5 * 1.5 ** attempt, 50) * (0.5 + Math.random()));
  }
}

/**
 * Announces a change of the keychain entry guarded by the lock at `path`
 * (see `RefreshLock.readGeneration`). Holders call it through their lock; this
 * form is for the rare change made when the lock could not be had.
 */
export function announceEntryChange(path: string): string {
  const generation = randomUUID();
  // Written in place: a reader that catches it half-written sees a value nobody
  // knows, which only makes it re-read the keychain — safe, and cheaper than a rename.
  try {
    writeFileSync(generationPathOf(path), generation, { mode: 0o600 });
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(generationPathOf(path), generation, { mode: 0o600 });
  }
  return generation;
}

function generationPathOf(path: string): string {
  return path.replace(/\.lock$/, '') + '.generation';
}

function heldLock(path: string, owner: LockOwner, logger?: Logger): RefreshLock {
  const generationPath = generationPathOf(path);
  let released = false;
  return {
    readGeneration() {
      try {
        return readFileSync(generationPath, 'utf8') || undefined;
      } catch {
        return undefined;
      }
    },
    announceChange: () => announceEntryChange(path),
    async release() {
      if (released) return;
      released = true;
      release(path, owner, logger);
    },
  };
}

// The uncontended path is synchronous on purpose: a few microseconds of local
// file work, instead of a thread-pool round trip per call on every refresh.
function tryCreate(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      return tryCreate(path, owner);
    }
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

async function observe(path: string): Promise<ObservedLock | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { raw, ino: info.ino, mtimeMs: info.mtimeMs, owner: parseOwner(raw) };
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale(lock: ObservedLock, staleAfterMs: number, now: number): boolean {
  if (now - ageBase(lock) > staleAfterMs) return true;
  // A lock file without its content yet is being written right now: not stale.
  const owner = lock.owner;
  return owner !== undefined && owner.hostname === hostname() && !isAlive(owner.pid);
}

function ageBase(lock: ObservedLock): number {
  return lock.owner?.createdAt ?? lock.mtimeMs;
}

/**
 * Removes a stale lock without racing other waiters that judged it stale too:
 * breakers serialize on a second O_EXCL file and delete the lock only if it is
 * still the very file they judged, never a fresh lock someone took meanwhile.
 */
async function breakLock(path: string, judged: ObservedLock, clock: () => number, timers: Timers): Promise<void> {
  const breakerPath = `${path}.break`;
  let breaker;
  try {
    breaker = await open(breakerPath, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
    const info = await stat(breakerPath).catch(() => undefined);
    if (info && clock() - info.mtimeMs > BREAKER_STALE_AFTER_MS) await unlink(breakerPath).catch(() => {});
    await delay(timers, 5);
    return;
  }
  try {
    const current = await observe(path);
    if (current && current.ino === judged.ino && current.raw === judged.raw) await unlink(path).catch(() => {});
  } finally {
    await breaker.close();
    await unlink(breakerPath).catch(() => {});
  }
}

function release(path: string, owner: LockOwner, logger?: Logger): void {
  let raw: string | undefined;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    raw = undefined;
  }
  if (raw !== undefined && parseOwner(raw)?.nonce === owner.nonce) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  } else {
    logger?.warn('the refresh lock was taken over while held (the refresh took longer than the stale bound)');
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.createdAt === 'number' && typeof value.nonce === 'string') {
      return { pid: value.pid, createdAt: value.createdAt, nonce: value.nonce, hostname: String(value.hostname ?? '') };
    }
  } catch {
    // Empty or partly written: judged by the file's age instead.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) === 'EPERM';
  }
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
