// The lock's liveness rules with real files and processes: a holder that is
// alive, however slow, keeps the lock; one that died or stopped loses it within
// seconds. Long holds run on an injected clock and heartbeat timers. Where real
// processes meet, the test judges on its own monotonic clock — the one the waiter
// in this process judges staleness on — and asserts the order of events, with
// stale bounds many heartbeats long, so a busy machine cannot turn a live holder
// into a dead one.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultLockDir } from '../../../src/core/entry/lock-folder.ts';
import { acquireEntryLock, entryLockPath } from '../../../src/core/entry/lock.ts';
import { createLogger } from '../../../src/core/log.ts';
import type { Timers } from '../../../src/core/timers.ts';

const lockModule = fileURLToPath(new URL('../../../src/core/entry/lock.ts', import.meta.url));

/**
 * A monotonic clock that moves only when the waiter sleeps: its poll delay
 * advances the clock and fires, at once, every holder heartbeat that fell due.
 */
function fakeTime() {
  const time = { now: 0 };
  let pending: Array<{ callback: () => void; at: number }> = [];
  const holderTimers: Timers = {
    setTimeout(callback, ms) {
      const timer = { callback, at: time.now + ms };
      pending.push(timer);
      return timer;
    },
    clearTimeout(handle) {
      pending = pending.filter((timer) => timer !== handle);
    },
  };
  const waiterTimers: Timers = {
    setTimeout(callback, ms) {
      time.now += ms;
      for (let due = pending.find((timer) => timer.at <= time.now); due; due = pending.find((timer) => timer.at <= time.now)) {
        pending = pending.filter((timer) => timer !== due);
        due.callback();
      }
      return setImmediate(callback);
    },
    clearTimeout: (handle) => clearImmediate(handle as NodeJS.Immediate),
  };
  return { clock: () => time.now, holderTimers, waiterTimers, get now() { return time.now; } };
}

const stoppedTimers: Timers = { setTimeout: () => 0, clearTimeout: () => {} };

/** The lock's default stale bound (lock.ts): five missed heartbeats of one second. */
const DEFAULT_STALE_AFTER_MS = 5_000;

/** Starts a Node process running `script` (an ES module); `ready` resolves once its stdout says `marker`, `done` with all of its stdout when it exits. */
function startNode(script: string, marker: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()).includes(marker) && resolve()));
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(output)));
  return { child, ready, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the entry lock’s liveness', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-liveness-'));
    path = entryLockPath(dir, 'latchkey-test', 'latchkey-desktop@http://127.0.0.1:4400/');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('does not take over a holder that is alive but slow (30 s)', async () => {
    const time = fakeTime();
    const holder = await acquireEntryLock(path, { clock: time.clock, timers: time.holderTimers });
    let acquiredAt: number | undefined;
    const waiting = acquireEntryLock(path, { clock: time.clock, timers: time.waiterTimers, timeoutMs: 120_000 }).then((lock) => {
      acquiredAt = time.now;
      return lock;
    });
    while (time.now < 30_000) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(acquiredAt).toBeUndefined();
    await holder.release();
    const lock = await waiting;
    expect(acquiredAt).toBeGreaterThanOrEqual(30_000);
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  // On the stepped clock above the takeover's moment is exact, however busy the machine: the bound, plus at most one poll (≤ 75 ms).
  it('takes over a holder whose heartbeat stopped after the stale bound, and the stopped holder leaves the new lock alone', async () => {
    const time = fakeTime();
    const stopped = await acquireEntryLock(path, { clock: time.clock, timers: stoppedTimers });
    let takenOverAt: number | undefined;
    const logger = { ...createLogger({ level: 'silent' }), warn: () => void (takenOverAt ??= time.now) };
    const lock = await acquireEntryLock(path, { clock: time.clock, timers: time.waiterTimers, logger });
    expect(takenOverAt).toBeGreaterThanOrEqual(5_000);
    expect(takenOverAt).toBeLessThan(5_200);
    // The stopped holder wakes up and releases: the lock it lost must stay with its new holder.
    await stopped.release();
    expect(existsSync(path)).toBe(true);
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over the lock of a holder killed with SIGKILL within seconds: once its stale bound has passed, long before the wait would give up', async () => {
    const holder = startNode(
      `import { acquireEntryLock } from ${JSON.stringify(lockModule)};
      await acquireEntryLock(${JSON.stringify(path)});
      console.log('held');
      setInterval(() => {}, 1000);`,
      'held',
    );
    await holder.ready;
    holder.child.kill('SIGKILL');
    await holder.done;
    const started = performance.now();
    const lock = await acquireEntryLock(path, { timeoutMs: 60_000 });
    const waited = performance.now() - started;
    // Not before the bound: the waiter watched the dead holder's mtime stand still for all of it.
    expect(waited).toBeGreaterThanOrEqual(DEFAULT_STALE_AFTER_MS);
    // Within seconds of it, by the clock of the process that judged: a takeover that needs two bounds, a
    // process check or the wait's own deadline would come later. The margin is for a busy machine.
    expect(waited).toBeLessThan(2 * DEFAULT_STALE_AFTER_MS);
    expect(lock.isHeld()).toBe(true);
    await lock.release();
  });

  it('keeps the lock of a live holder in another process, whose heartbeat runs on its own, for as long as it holds it', async () => {
    // A stale bound of 2 s against a heartbeat of 100 ms: only a holder that misses twenty beats in a
    // row — stopped or dead, not merely slow on a busy machine — can lose its lock.
    const staleAfterMs = 2_000;
    const holder = startNode(
      `import { acquireEntryLock } from ${JSON.stringify(lockModule)};
      const lock = await acquireEntryLock(${JSON.stringify(path)}, { heartbeatMs: 100, staleAfterMs: ${staleAfterMs} });
      console.log('held');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      console.log('still held: ' + lock.isHeld());
      await lock.release();
      process.stdin.destroy();`,
      'held',
    );
    await holder.ready;
    const waitingSince = performance.now();
    let acquired = false;
    const waiting = acquireEntryLock(path, { staleAfterMs, timeoutMs: 60_000 }).then((lock) => {
      acquired = true;
      return lock;
    });
    // Two whole stale bounds of the waiter's clock: a waiter that judged by age, or ignored the heartbeat, would have taken over by now.
    while (performance.now() - waitingSince < 2 * staleAfterMs) await sleep(100);
    expect(acquired).toBe(false);
    // Only now does the holder let go; the waiter gets the lock after that, and the holder still held it until then.
    holder.child.stdin.write('release\n');
    const lock = await waiting;
    expect(await holder.done).toContain('still held: true');
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a lock folder that is a symlink or open to others', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    const linked = join(dir, 'linked');
    await symlink(elsewhere, linked);
    await expect(acquireEntryLock(entryLockPath(linked, 's', 'a'))).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('not a folder') });
    const open = join(dir, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    await expect(acquireEntryLock(entryLockPath(open, 's', 'a'))).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('mode 777') });
    const fresh = join(dir, 'fresh');
    const lock = await acquireEntryLock(entryLockPath(fresh, 's', 'a'));
    await lock.release();
  });

  it.runIf(process.getuid?.() === 0)('refuses a lock folder another user created first', async () => {
    const foreign = join(dir, 'foreign');
    await mkdir(foreign, { mode: 0o700 });
    const { chown } = await import('node:fs/promises');
    await chown(foreign, 65534, 65534);
    await expect(acquireEntryLock(entryLockPath(foreign, 's', 'a'))).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('another user') });
  });

  it.runIf(process.platform === 'linux')('lives in the user’s own cache folder, whatever XDG_RUNTIME_DIR, TMPDIR or HOME say, and is named for the keychain entry', () => {
    const expected = join(userInfo().homedir, '.cache', 'latchkey', 'locks');
    expect(defaultLockDir()).toBe(expected);
    for (const variable of ['XDG_RUNTIME_DIR', 'TMPDIR', 'HOME']) {
      vi.stubEnv(variable, dir);
      expect(defaultLockDir()).toBe(expected);
    }
    vi.unstubAllEnvs();
    expect(entryLockPath(dir, 'service', 'account')).not.toBe(entryLockPath(dir, 'other-service', 'account'));
  });
});
