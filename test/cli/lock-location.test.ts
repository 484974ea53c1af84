// Where the session's lock lives, with real processes over the real demo provider and OS keychain: the
// folder is the user's, not the environment's, so processes whose XDG_RUNTIME_DIR or TMPDIR differ still
// take turns (the provider never sees a refresh token redeemed twice), and a folder another local user
// planted in a shared temp or runtime folder blocks nothing.
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthSession, createHttpClient, createLogger, keychainAccount, loadConfig, type HttpClient } from '../../src/core/index.ts';
import { startTestDemo } from '../helpers/demo.ts';
import { demoCliEnv, JWT, startCli } from '../helpers/cli.ts';

describe('the session lock is the user’s, not the environment’s', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let scratch: string;
  const service = `latchkey-test-lock-location-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-lock-location-'));
    scratch = await mkdtemp(join(tmpdir(), 'latchkey-lock-env-'));
    demo = await startTestDemo({ accessTokenTtl: 60 });
    const login = await cli(['login', '--timeout', '60']);
    expect(login.code, login.stderr).toBe(0);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    await keytar.deletePassword(service, keychainAccount(config()));
    await keytar.deletePassword(service, `${keychainAccount(config())}#access-token`);
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  /** The CLI's environment, with XDG_RUNTIME_DIR and TMPDIR as given (undefined: unset). */
  const env = (where: { XDG_RUNTIME_DIR?: string; TMPDIR?: string } = {}): NodeJS.ProcessEnv => {
    const result = demoCliEnv(demo, { service, dataDir });
    delete result.XDG_RUNTIME_DIR;
    delete result.TMPDIR;
    return { ...result, ...where };
  };
  const config = () => loadConfig({ env: env() });
  const cli = (args: string[], where: { XDG_RUNTIME_DIR?: string; TMPDIR?: string } = {}) => startCli(args, env(where)).result;

  /** A folder created by another local user (as root: owned by nobody; else open to everyone, which is refused alike). */
  async function plantForeignFolder(path: string): Promise<void> {
    await mkdir(path, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) await chown(path, 65534, 65534);
    else await chmod(path, 0o777);
  }

  it('an app with XDG_RUNTIME_DIR and a `token --refresh` without it, at the same time, redeem the refresh token once between them', async () => {
    const runtimeDir = join(scratch, 'runtime');
    const otherTmp = join(scratch, 'other-tmp');
    await Promise.all([mkdir(runtimeDir, { mode: 0o700 }), mkdir(otherTmp, { mode: 0o700 })]);
    // The app (this process) has a runtime folder; its answers from the token endpoint arrive 3 s late, as on a slow network.
    vi.stubEnv('XDG_RUNTIME_DIR', runtimeDir);
    const real = createHttpClient();
    const slow: HttpClient = {
      ...real,
      fetch: (async (input: string | URL, init?: RequestInit) => {
        const response = await real.fetch(input, init);
        if (new URL(String(input)).pathname === '/token') await delay(3_000);
        return response;
      }) as typeof fetch,
    };
    const app = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }), http: slow });
    try {
      const current = await app.getAccessToken();
      const before = demo.stats.tokenRequests;
      const refreshing = app.refreshAccessToken(current);
      while (demo.stats.tokenRequests === before) await delay(1);
      // A terminal (cron, su, an ssh session) with no runtime folder and another temp folder.
      const terminal = await cli(['token', '--refresh'], { TMPDIR: otherTmp });
      expect(terminal.code, terminal.stderr).toBe(0);
      expect(terminal.stdout.trim()).toMatch(JWT);
      expect(await refreshing).toMatch(JWT);
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      vi.unstubAllEnvs();
      await app.close();
      await real.close();
    }
    const after = await cli(['token', '--refresh']);
    expect(after.code, after.stderr).toBe(0);
    expect(demo.stats.reuseDetected).toBe(0);
  }, 60_000);

  it('a lock folder another user created first in the temp folder or the runtime folder blocks neither refresh, nor logout, nor sign-in', async () => {
    const sharedTmp = join(scratch, 'shared-tmp');
    const runtimeDir = join(scratch, 'shared-runtime');
    await mkdir(sharedTmp, { mode: 0o1777 });
    await mkdir(runtimeDir, { mode: 0o700 });
    // Where the lock used to live: <tmp>/latchkey-<uid> without a runtime folder, <runtime>/latchkey with one.
    await plantForeignFolder(join(sharedTmp, `latchkey-${process.getuid?.() ?? ''}`));
    await plantForeignFolder(join(runtimeDir, 'latchkey'));
    for (const where of [{ TMPDIR: sharedTmp }, { XDG_RUNTIME_DIR: runtimeDir }]) {
      const refreshed = await cli(['token', '--refresh'], where);
      expect(refreshed.code, refreshed.stderr).toBe(0);
      expect(refreshed.stderr).not.toMatch(/cannot be trusted/);
    }
    const logout = await cli(['logout'], { TMPDIR: sharedTmp });
    expect(logout.code, logout.stderr).toBe(0);
    const login = await cli(['login', '--timeout', '60'], { TMPDIR: sharedTmp });
    expect(login.code, login.stderr).toBe(0);
    expect(demo.stats.reuseDetected).toBe(0);
  }, 60_000);
});
