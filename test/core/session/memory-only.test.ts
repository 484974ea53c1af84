// The no-keychain path for real: a separate process whose Secret Service is not
// there, so openKeychain falls back to memory only, signs in with the demo
// provider and Chromium, refreshes, and must leave no token anywhere it could write.
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nssWrapperOf } from '../../../scripts/nss-wrapper.ts';
import { defaultLockDir } from '../../../src/core/index.ts';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import { browserOpener, DEMO_ALICE, launchBrowser, type Browser } from '../../../support/browser.ts';
import { issuedSecrets, startTestDemo } from '../../helpers/demo.ts';
import { findLeaks, readFolders } from '../../helpers/leaks.ts';
import type { ChildMessage } from './memory-only.child.ts';

const child = fileURLToPath(new URL('./memory-only.child.ts', import.meta.url));

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  messages: ChildMessage[];
}

describe('a session without a Secret Service (memory only), in its own process', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let root: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startTestDemo(), launchBrowser()]);
    // Everywhere the process could keep files of its own points into `root`, so one scan sees them all — with the lock
    // folder, found through the account database (with-keyring.ts's nss_wrapper gives the run one of its own).
    root = await mkdtemp(join(tmpdir(), 'latchkey-memory-only-'));
    const folders = { HOME: 'home', XDG_CONFIG_HOME: 'config', XDG_DATA_HOME: 'share', XDG_CACHE_HOME: 'cache', XDG_STATE_HOME: 'state', XDG_RUNTIME_DIR: 'runtime', TMPDIR: 'tmp', AUTH_DATA_DIR: 'data' };
    const paths = Object.fromEntries(Object.entries(folders).map(([name, folder]) => [name, join(root, folder)]));
    await Promise.all([...Object.values(paths), join(root, 'cwd')].map((path) => mkdir(path, { recursive: true, mode: 0o700 })));
    env = {
      PATH: process.env.PATH,
      ...paths,
      // with-keyring.ts's account database (nss_wrapper), whose home is this run's: the lock folder is not the user's.
      ...nssWrapperOf(),
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
      AUTH_ISSUER: demo.issuer,
      AUTH_CLIENT_ID: DEMO_CLIENT_ID,
      AUTH_AUDIENCE: DEMO_AUDIENCE,
      API_BASE_URL: demo.apiUrl,
      AUTH_KEYCHAIN_SERVICE: 'latchkey-test-memory-only',
      LATCHKEY_LOG_LEVEL: 'debug',
    };
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  function runSession(mode: 'sign-in' | 'restart'): Promise<ChildRun> {
    const opener = browserOpener(browser, DEMO_ALICE);
    return new Promise((resolve, reject) => {
      const session = fork(child, [mode], { env, cwd: join(root, 'cwd'), execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      const run: ChildRun = { code: null, stdout: '', stderr: '', messages: [] };
      session.stdout!.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
      session.stderr!.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
      session.on('message', (message: ChildMessage) => {
        run.messages.push(message);
        if (message.type === 'open') void opener(message.url);
      });
      session.on('error', reject);
      session.on('close', (code) => {
        run.code = code;
        void opener.close().then(() => resolve(run));
      });
    });
  }

  it('signs in and refreshes through the real fallback, and no token lands in any file it could write or in its output', async () => {
    const before = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;
    const run = await runSession('sign-in');
    expect(run.code, run.stderr).toBe(0);
    const signedIn = run.messages.find((message) => message.type === 'signed-in');
    expect(signedIn).toMatchObject({ keychain: 'memory-only', status: 'signed-in', accessTokens: [expect.any(String), expect.any(String), expect.any(String)] });
    const accessTokens = signedIn?.type === 'signed-in' ? signedIn.accessTokens : [];
    expect(new Set(accessTokens).size).toBe(3);
    expect((demo.stats.tokenRequestsByGrant.refresh_token ?? 0) - before).toBe(2);
    expect(run.stderr).toMatch(/keychain unavailable, keeping the session in memory only/);
    expect(run.stderr).toMatch(/access token refreshed/);

    const places = [...(await readFolders(root, defaultLockDir())), { name: 'stdout', text: run.stdout }, { name: 'stderr', text: run.stderr }];
    expect(places.some((place) => place.name.endsWith('profile.json'))).toBe(true);
    // The authorization code and three refresh tokens at least, as the provider stored them.
    expect(issuedSecrets().size).toBeGreaterThanOrEqual(4);
    expect(findLeaks([...issuedSecrets(), ...accessTokens], places)).toEqual([]);
  });

  it('a new process over the same folders finds no session: nothing was kept to restore', async () => {
    const run = await runSession('restart');
    expect(run.code, run.stderr).toBe(0);
    expect(run.messages).toContainEqual({ type: 'restarted', keychain: 'memory-only', status: 'signed-out' });
  });
});
