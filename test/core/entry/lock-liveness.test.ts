// The lock's liveness rules with real files and processes: a holder that is
// alive, however slow, keeps the lock; one that died or stopped loses it within
// seconds. Long holds run on an injected clock and heartbeat timers.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
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

describe('refresh lock liveness', () => {
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

  it('takes over the lock of a holder killed with SIGKILL within seconds', async () => {
    const script = `import { acquireRefreshLock } from ${JSON.stringify(lockModule)};
      await acquireRefreshLock(${JSON.stringify(path)});
      console.log('held');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const started = performance.now();
    const lock = await acquireEntryLock(path, { timeoutMs: 15_000 });
    expect(performance.now() - started).toBeLessThan(7_000);
    await lock.release();
  });

  it('keeps the lock of a live holder in another process, whose heartbeat runs on its own', async () => {
    const script = `import { acquireRefreshLock } from ${JSON.stringify(lockModule)};
      const lock = await acquireRefreshLock(${JSON.stringify(path)}, { heartbeatMs: 50 });
      console.log('held');
      await new Promise((r) => setTimeout(r, 1500));
      console.log('releasing');
      await lock.release();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()).includes('held') && resolve()));
    // A stale bound of 400 ms: eight heartbeats of the holder fit in it, and it holds for 1.5 s.
    const lock = await acquireEntryLock(path, { staleAfterMs: 400, timeoutMs: 10_000 });
    expect(output).toContain('releasing');
    await lock.release();
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
