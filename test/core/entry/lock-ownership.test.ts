// A holder that lost the lock — stopped past the stale bound (SIGSTOP, Ctrl-Z) while another process took
// it over — redeems nothing and writes nothing when it wakes, with real processes, the real demo provider
// and the real OS keychain.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../../src/core/index.ts';
import { acquireEntryLock, entryLockPath } from '../../../src/core/entry/lock.ts';
import { startTestDemo } from '../../helpers/demo.ts';
import { demoCliEnv, JWT, startCli } from '../../helpers/cli.ts';

const lockModule = fileURLToPath(new URL('../../../src/core/entry/lock.ts', import.meta.url));
const stalledHolder = fileURLToPath(new URL('./stalled-holder.child.ts', import.meta.url));

/** Starts `node args…`; resolves `ready` once its stdout says `marker`, `done` with all of its stdout when it exits. */
function startNode(args: string[], env: NodeJS.ProcessEnv, marker: string) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()).includes(marker) && resolve()));
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(output)));
  return { child, ready, done };
}

describe('a holder that lost the lock', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'latchkey-ownership-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('knows it, in another process, once it wakes from SIGSTOP after a waiter took over', async () => {
    const path = entryLockPath(scratch, 'latchkey-test', 'account');
    const script = `import { acquireEntryLock } from ${JSON.stringify(lockModule)};
      const lock = await acquireEntryLock(${JSON.stringify(path)}, { heartbeatMs: 50, staleAfterMs: 400 });
      console.log('held ' + lock.isHeld());
      process.kill(process.pid, 'SIGSTOP');
      let threw = false;
      try { lock.assertHeld(); } catch (error) { threw = error.code; }
      console.log('after ' + lock.isHeld() + ' ' + threw);
      await lock.release();`;
    const holder = startNode(['--input-type=module', '-e', script], process.env, 'held');
    await holder.ready;
    const started = performance.now();
    const lock = await acquireEntryLock(path, { staleAfterMs: 400, timeoutMs: 10_000 });
    // Taken over once its heartbeat stood still for the whole bound, on the clock of this process, which judged.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    holder.child.kill('SIGCONT');
    const output = await holder.done;
    expect(output).toContain('held true');
    expect(output).toContain('after false provider_unreachable');
    expect(lock.isHeld()).toBe(true);
    await lock.release();
    expect(lock.isHeld()).toBe(false);
  });

  describe('with the demo provider', () => {
    let demo: Awaited<ReturnType<typeof startTestDemo>>;
    let dataDir: string;
    const service = `latchkey-test-ownership-${randomUUID()}`;
    const env = () => demoCliEnv(demo, { service, dataDir });
    const config = () => loadConfig({ env: env() });
    const storedEntry = () => keytar.getPassword(service, keychainAccount(config()));

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'latchkey-ownership-data-'));
      demo = await startTestDemo({ accessTokenTtl: 60 });
      const login = await startCli(['login', '--timeout', '60'], env()).result;
      expect(login.code, login.stderr).toBe(0);
    });
    afterAll(async () => {
      await keytar.deletePassword(service, keychainAccount(config()));
      await keytar.deletePassword(service, `${keychainAccount(config())}#access-token`);
      await demo?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('stopped between reading the keychain and redeeming, it wakes after another process refreshed and redeems and stores nothing', async () => {
      const holder = startNode([stalledHolder], env(), 'stopping');
      await holder.ready;
      // The holder is stopped with the lock and the refresh token it read: another process takes over after the stale bound.
      const other = await startCli(['token', '--refresh'], env()).result;
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout.trim()).toMatch(JWT);
      const storedByOther = await storedEntry();
      holder.child.kill('SIGCONT');
      const outcome = JSON.parse((await holder.done).trim().split('\n').at(-1)!) as { outcome: string; code?: string };
      expect(outcome).toMatchObject({ outcome: 'refused', code: 'provider_unreachable' });
      // It redeemed nothing (the provider saw no reuse) and wrote nothing (the entry is the other process's).
      expect(demo.stats.reuseDetected).toBe(0);
      expect(await storedEntry()).toBe(storedByOther);
      const next = await startCli(['token', '--refresh'], env()).result;
      expect(next.code, next.stderr).toBe(0);
      expect(demo.stats.reuseDetected).toBe(0);
    }, 60_000);
  });
});
