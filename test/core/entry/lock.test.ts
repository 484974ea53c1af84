// The cross-process lock of a keychain entry with real files and processes. Where real processes meet,
// the test makes the contention it needs by the order of events (every process has asked before the
// first holder leaves), not by hoping the scheduler starts them together; elapsed times are taken on
// the monotonic clock of the process that judges, against bounds far from what a busy machine adds.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireEntryLock, entryLockPath, LOCK_NAMES_FILE, withEntryLock } from '../../../src/core/entry/lock.ts';
import type { Timers } from '../../../src/core/timers.ts';

const run = promisify(execFile);
const lockModule = fileURLToPath(new URL('../../../src/core/entry/lock.ts', import.meta.url));

describe('withEntryLock', () => {
  let dataDir: string;
  let path: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-lock-'));
    path = entryLockPath(dataDir, 'latchkey-test', 'latchkey-desktop@http://127.0.0.1:4400/');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets one holder in at a time and always removes the lock file', async () => {
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        withEntryLock(path, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(8);
    expect(existsSync(path)).toBe(false);
  });

  it('serializes separate processes: holders that all want the lock at once are never inside together', async () => {
    const holders = await holdInSeparateProcesses(path, { processes: 3, rounds: 2, holdMs: 250 });
    const intervals = holders.flatMap((holder) => holder.intervals.map((interval) => ({ pid: holder.pid, ...interval })));
    expect(intervals).toHaveLength(6);
    // They contended: every process was waiting for the lock before the first holder left it.
    const firstLeave = Math.min(...intervals.map((interval) => interval.leave));
    for (const holder of holders) expect(holder.readyAt).toBeLessThan(firstLeave);
    expect(overlapsOf(intervals)).toEqual([]);
  });

  it('takes over a lock whose heartbeat stopped (its holder died)', async () => {
    const { stdout } = await run(process.execPath, ['-e', 'console.log(process.pid)']);
    const deadPid = Number(stdout.trim());
    await writeFile(path, JSON.stringify({ pid: deadPid, hostname: hostname(), nonce: 'dead' }));
    const staleAfterMs = 500;
    const started = performance.now();
    expect(await withEntryLock(path, async () => 'ran', { staleAfterMs, timeoutMs: 60_000 })).toBe('ran');
    const waited = performance.now() - started;
    // After its own bound and not before: the waiter watched the mtime stand still for all of it.
    expect(waited).toBeGreaterThanOrEqual(staleAfterMs);
    // Well before the default bound (5 s): the option decides, and a busy machine has seconds of margin.
    expect(waited).toBeLessThan(4_000);
    expect(existsSync(path)).toBe(false);
  });

  it('waits for a live, fresh lock and gives up after the timeout', async () => {
    await writeFile(path, JSON.stringify({ pid: process.pid, hostname: hostname(), nonce: 'held' }));
    await expect(withEntryLock(path, async () => 'ran', { timeoutMs: 150 })).rejects.toMatchObject({ code: 'provider_unreachable' });
    expect(JSON.parse(await readFile(path, 'utf8')).nonce).toBe('held');
  });

  it('tells the next holder whether the keychain entry was announced as changed since it last looked', async () => {
    const seen = await withEntryLock(path, async (lock) => {
      expect(lock.readGeneration()).toBeUndefined();
      return lock.announceChange();
    });
    expect(await withEntryLock(path, async (lock) => lock.readGeneration())).toBe(seen);
    const script = `import { withEntryLock } from ${JSON.stringify(lockModule)};
      await withEntryLock(${JSON.stringify(path)}, async (lock) => lock.announceChange());`;
    await run(process.execPath, ['--input-type=module', '-e', script]);
    const after = await withEntryLock(path, async (lock) => lock.readGeneration());
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(seen);
  });

  it('on an injected clock, waits out a live holder until the deadline without sleeping through it', async () => {
    const time = steppedTime();
    // The holder beats on the same stepped timers, so it stays alive however far the clock runs.
    const holder = await acquireEntryLock(path, time);
    const started = performance.now();
    try {
      await expect(withEntryLock(path, async () => 'ran', { timeoutMs: 40_000, ...time })).rejects.toMatchObject({ code: 'provider_unreachable' });
      expect(time.clock() - time.start).toBeGreaterThanOrEqual(40_000);
      // Sleeping through the 40 s for real would take 40 s; stepping takes well under a second, and far
      // under half of it however busy the machine.
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      await holder.release();
    }
  });

  it('on an injected clock, takes over a holder whose heartbeat stopped only once the stale bound has passed', async () => {
    const time = steppedTime();
    await writeFile(path, JSON.stringify({ pid: process.pid, hostname: hostname(), createdAt: time.clock(), nonce: 'hung' }));
    expect(await withEntryLock(path, async () => time.clock() - time.start, { staleAfterMs: 20_000, timeoutMs: 60_000, ...time })).toBeGreaterThan(20_000);
  });

  it('releases the lock when the critical section throws', async () => {
    await expect(withEntryLock(path, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
    expect(await withEntryLock(path, async () => 'again', { timeoutMs: 500 })).toBe('again');
  });
});

/** A clock that moves only when a waiter sleeps: each timer advances it by its delay and fires at once. */
function steppedTime(): { start: number; clock: () => number; timers: Timers } {
  const start = Date.now();
  let now = start;
  return {
    start,
    clock: () => now,
    timers: {
      setTimeout(callback, ms) {
        now += ms;
        return setImmediate(callback);
      },
      clearTimeout: (handle) => clearImmediate(handle as NodeJS.Immediate),
    },
  };
}

interface Interval {
  enter: number;
  leave: number;
}

interface Holder {
  pid: number;
  /** When it started asking for the lock, after every process was ready. */
  readyAt: number;
  intervals: Interval[];
}

/**
 * Runs `processes` Node processes that each take the lock at `path` `rounds`
 * times and hold it for `holdMs`, all released at the same moment so they
 * contend; returns when each entered and left. Each says it is about to ask
 * (a file in `asking/`) before it asks, and whoever holds the lock first keeps
 * it until all of them have said so: they contend however the machine schedules
 * them. Without a working lock their holds overlap for certain.
 */
async function holdInSeparateProcesses(path: string, options: { processes: number; rounds: number; holdMs: number }): Promise<Holder[]> {
  const asking = join(path, '..', 'asking');
  await mkdir(asking);
  const script = `import { withEntryLock } from ${JSON.stringify(lockModule)};
    import { readdirSync, writeFileSync } from 'node:fs';
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    const readyAt = Date.now();
    writeFileSync(${JSON.stringify(asking)} + '/' + process.pid, '');
    const intervals = [];
    for (let round = 0; round < ${options.rounds}; round++) {
      await withEntryLock(${JSON.stringify(path)}, async () => {
        const enter = Date.now();
        await new Promise((resolve) => setTimeout(resolve, ${options.holdMs}));
        for (let waited = 0; readdirSync(${JSON.stringify(asking)}).length < ${options.processes} && waited < 30_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        intervals.push({ enter, leave: Date.now() });
      }, { timeoutMs: 60_000 });
    }
    process.stdout.write(JSON.stringify({ pid: process.pid, readyAt, intervals }) + '\\n');
    process.stdin.destroy();`;
  const children = Array.from({ length: options.processes }, () => spawn(process.execPath, ['--input-type=module', '-e', script]));
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = new Promise<void>((resolve) => child.stdout.on('data', () => stdout.startsWith('ready\n') && resolve()));
    const exited = new Promise<string>((resolve, reject) =>
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`lock holder exited ${code}: ${stderr}`)))),
    );
    return { ready, exited };
  });
  await Promise.all(outputs.map((output) => output.ready));
  for (const child of children) child.stdin.write('go\n');
  const results = await Promise.all(outputs.map((output) => output.exited));
  return results.map((stdout) => JSON.parse(stdout.split('\n')[1]!) as Holder);
}

/** Every pair of intervals that share a moment, as `pid [enter, leave)` pairs. Touching ends do not overlap. */
function overlapsOf(intervals: (Interval & { pid: number })[]): string[] {
  const sorted = [...intervals].sort((a, b) => a.enter - b.enter);
  const overlaps: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.enter < sorted[i]!.leave; j++) {
      const [a, b] = [sorted[i]!, sorted[j]!];
      overlaps.push(`${a.pid} [${a.enter}, ${a.leave}) with ${b.pid} [${b.enter}, ${b.leave})`);
    }
  }
  return overlaps;
}

describe('entryLockPath', () => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

  it('names a lock by SHA-256 of service and account, as every version does, and lists the name in lock-names.json (0600) for the next process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-lock-names-'));
    try {
      expect(entryLockPath(dir, 'svc', 'client@https://issuer')).toBe(join(dir, `${sha('svc\nclient@https://issuer')}.lock`));
      const listed = JSON.parse(await readFile(join(dir, LOCK_NAMES_FILE), 'utf8')) as { v: number; names: Record<string, string> };
      expect(listed).toEqual({ v: 1, names: { 'svc\nclient@https://issuer': sha('svc\nclient@https://issuer') } });
      expect((await stat(join(dir, LOCK_NAMES_FILE))).mode & 0o777).toBe(0o600);
      // Another process finds the same name in the list.
      const script = `import { entryLockPath } from ${JSON.stringify(lockModule)}; console.log(entryLockPath(${JSON.stringify(dir)}, 'svc', 'client@https://issuer'));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
      expect(stdout.trim()).toBe(join(dir, `${sha('svc\nclient@https://issuer')}.lock`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ignores a lock-names.json that is not a list of such names (damaged, or a name that is not one), computes the name and writes the list again', async () => {
    for (const damaged of ['{"v":1,"names":', '{"v":1,"names":{"svc\\nsomeone":"../../elsewhere"}}', '[1,2]']) {
      const dir = await mkdtemp(join(tmpdir(), 'latchkey-lock-names-'));
      try {
        await writeFile(join(dir, LOCK_NAMES_FILE), damaged, { mode: 0o600 });
        const script = `import { entryLockPath } from ${JSON.stringify(lockModule)}; console.log(entryLockPath(${JSON.stringify(dir)}, 'svc', 'someone'));`;
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
        expect(stdout.trim()).toBe(join(dir, `${sha('svc\nsomeone')}.lock`));
        expect(JSON.parse(await readFile(join(dir, LOCK_NAMES_FILE), 'utf8'))).toEqual({ v: 1, names: { 'svc\nsomeone': sha('svc\nsomeone') } });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
});
