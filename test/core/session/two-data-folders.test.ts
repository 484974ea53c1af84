// Two processes share the keychain but not the data folder (a Flatpak or Snap app has its own XDG_CONFIG_HOME;
// AUTH_DATA_DIR; the CLI beside a packaged app). Whatever the other process does, what a process hands out and
// what it shows belong to one user, the user of the entry it read: a sign-in elsewhere as someone else adds that
// user as another account and leaves this process's alone; and when the entry this process reads comes to hold
// another user's session (an earlier Latchkey, from before accounts, kept one entry per provider and signed
// anyone in over it), the process follows the entry's user — never showing the profile its own folder cached
// beside the new user's tokens, never storing its old user's `sub` beside the new user's refresh token. With the
// real demo provider, Chromium and the OS keychain; in one process, then across two real processes (the CLI).
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import type { AuthState } from '../../../src/shared/auth-state.ts';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { defaultLockDir } from '../../../src/core/entry/lock-folder.ts';
import { entryLockPath, withEntryLock } from '../../../src/core/entry/lock.ts';
import { createLogger } from '../../../src/core/log.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import type { AuthSession } from '../../../src/core/session/auth-session.ts';
import { browserOpener, DEMO_ALICE, DEMO_BOB, launchBrowser, type Browser } from '../../../support/browser.ts';
import { demoCliEnv, runCli } from '../../helpers/cli.ts';
import { forgetSessionEntries, startTestDemo } from '../../helpers/demo.ts';
import type { ChildMessage, ParentMessage } from './two-data-folders.child.ts';

const child = fileURLToPath(new URL('./two-data-folders.child.ts', import.meta.url));

/** The `sub` an access token (a JWT from the demo) was issued for. */
function subOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
}

describe('two data folders, one keychain: a process hands out and shows the user of the entry it reads', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let root: string;
  const services: string[] = [];
  const sessions: AuthSession[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 600 }), launchBrowser()]);
    root = await mkdtemp(join(tmpdir(), 'latchkey-two-folders-'));
  });

  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    for (const service of services) await forgetSessionEntries(service, keychainAccount(configFor(service, 'any')));
    await browser?.close();
    await demo?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  function configFor(service: string, folder: string): AuthConfig {
    return loadConfig({
      env: { AUTH_ISSUER: demo.issuer, AUTH_CLIENT_ID: DEMO_CLIENT_ID, AUTH_AUDIENCE: DEMO_AUDIENCE, API_BASE_URL: demo.apiUrl, AUTH_KEYCHAIN_SERVICE: service, AUTH_DATA_DIR: join(root, service, folder) },
    });
  }

  function newService(): string {
    const service = `latchkey-test-two-folders-${randomUUID()}`;
    services.push(service);
    return service;
  }

  /** The `sub` stored in the entry of the first account (the one earlier versions kept their one session in). */
  async function storedSub(config: AuthConfig): Promise<string | undefined> {
    const raw = await keytar.getPassword(config.keychainService, keychainAccount(config));
    return raw === null ? undefined : (JSON.parse(raw) as { sub: string }).sub;
  }

  /**
   * What an earlier Latchkey (one entry per provider, before accounts) does when it signs `sub` in: it stores that
   * user's session in the one entry, under the entry's lock, announcing the change. Here that session is the one
   * the current version stored for `sub` in its own account's entry.
   */
  async function earlierVersionSignsIn(config: AuthConfig, sub: string): Promise<void> {
    const entries = await keytar.findCredentials(config.keychainService);
    const theirs = entries.find((entry) => !entry.account.endsWith('#access-token') && (JSON.parse(entry.password) as { sub?: string }).sub === sub);
    if (!theirs) throw new Error(`no entry holds ${sub}`);
    const { access: _shared, ...session } = JSON.parse(theirs.password) as Record<string, unknown>;
    await withEntryLock(entryLockPath(defaultLockDir(), config.keychainService, keychainAccount(config)), async (lock) => {
      lock.announceChange();
      await keytar.setPassword(config.keychainService, keychainAccount(config), JSON.stringify(session));
    });
  }

  it('in one process: A shows and hands out Alice, whoever B signs in; once the entry A reads holds Bob, A shows and hands out Bob, and its refresh stores Bob’s sub', async () => {
    const service = newService();
    const logLines: string[] = [];
    const logger = createLogger({ level: 'info', sink: (line) => logLines.push(line) });
    const [configA, configB] = [configFor(service, 'a'), configFor(service, 'b')];
    const a = await createAuthSession({ config: configA, opener: browserOpener(browser, DEMO_ALICE), logger });
    sessions.push(a);
    await a.signIn({ timeoutMs: 30_000 });
    const alice = a.getState().user!;
    expect(alice.name).toBe('Alice Liddell');
    const aliceToken = await a.getAccessToken();

    // B, with a data folder of its own, signs Bob in: he is another account, in an entry of his own.
    const b = await createAuthSession({ config: configB, opener: browserOpener(browser, DEMO_BOB), logger });
    sessions.push(b);
    await b.signIn({ timeoutMs: 30_000, adding: true });
    const bob = b.getState().user!;
    expect(bob.sub).not.toBe(alice.sub);
    const stillAlice = await a.refreshAccessToken(aliceToken);
    expect(subOf(stillAlice)).toBe(alice.sub);
    expect(a.getState().user).toMatchObject({ sub: alice.sub, name: 'Alice Liddell' });
    expect(await storedSub(configA)).toBe(alice.sub);

    await earlierVersionSignsIn(configA, bob.sub);
    const events: AuthState[] = [];
    a.onStateChange((state) => events.push(state));
    // An API refused Alice's token: A reads the entry under the lock, and it is Bob's now.
    const token = await a.refreshAccessToken(stillAlice);
    expect(subOf(token)).toBe(bob.sub);
    expect(a.getState().user?.sub).toBe(bob.sub);
    expect(a.getState().user?.name).not.toBe('Alice Liddell');
    // It said so: a state event with the entry's user (none with Alice beside Bob's token), and a log line.
    expect(events.some((state) => state.user?.sub === bob.sub)).toBe(true);
    expect(events.every((state) => state.user?.sub !== alice.sub)).toBe(true);
    expect(logLines.some((line) => line.includes('another user'))).toBe(true);
    // Its refresh stored Bob's sub beside Bob's rotated refresh token, never Alice's.
    expect(await storedSub(configA)).toBe(bob.sub);

    const next = await a.refreshAccessToken(token);
    await a.whenIdle();
    expect(subOf(next)).toBe(bob.sub);
    expect(await storedSub(configA)).toBe(bob.sub);
    expect(a.getState()).toMatchObject({ status: 'signed-in', user: { sub: bob.sub } });
    expect(await a.getAccessToken()).toBe(next);
  });

  it('across two real processes with two XDG_CONFIG_HOME / AUTH_DATA_DIR folders: the app-like process keeps Alice while the CLI adds Bob, and follows Bob once its entry holds him', async () => {
    const service = newService();
    const config = configFor(service, 'cli');
    // Process A's folder comes from XDG_CONFIG_HOME (no AUTH_DATA_DIR), as a Flatpak's does; the CLI's from AUTH_DATA_DIR.
    const envA = demoCliEnv(demo, { service, dataDir: '' }, { AUTH_DATA_DIR: undefined, XDG_CONFIG_HOME: join(root, service, 'xdg-a') });
    delete envA.AUTH_DATA_DIR;
    const envCli = demoCliEnv(demo, { service, dataDir: join(root, service, 'cli') }, { LATCHKEY_TEST_LOGIN: DEMO_BOB.login, LATCHKEY_TEST_PASSWORD: DEMO_BOB.password });

    const asAlice = await runCli(['login', '--timeout', '60'], envA);
    expect(asAlice.code, asAlice.stderr).toBe(0);
    expect(asAlice.stdout).toContain('Signed in as Alice Liddell');

    const processA = fork(child, [], { env: { ...envA, LATCHKEY_LOG_LEVEL: 'info' }, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stderrA = '';
    processA.stderr!.on('data', (chunk: Buffer) => (stderrA += chunk.toString()));
    const exited = new Promise((resolve) => processA.on('close', resolve));
    const nextMessage = () => new Promise<ChildMessage>((resolve, reject) => {
      processA.once('message', resolve);
      processA.once('close', () => reject(new Error(`process A exited:\n${stderrA}`)));
    });
    const tell = (message: ParentMessage) => processA.send(message);
    try {
      const restored = await nextMessage();
      expect(restored).toMatchObject({ type: 'state', state: { status: 'signed-in', user: { name: 'Alice Liddell' } } });
      const aliceSub = restored.type === 'state' ? restored.state.user!.sub : '';

      const asBob = await runCli(['login', '--timeout', '60'], envCli);
      expect(asBob.code, asBob.stderr).toBe(0);
      expect(asBob.stdout).toContain('Signed in as Bob Builder');
      const bobSub = (JSON.parse((await runCli(['status', '--json'], envCli)).stdout) as { user: { sub: string } }).user.sub;
      expect(bobSub).not.toBe(aliceSub);

      // Bob is another account, in an entry of his own: A still shows and hands out Alice.
      const afterBob = nextMessage();
      tell({ type: 'refresh' });
      const same = await afterBob;
      expect(same.type, JSON.stringify(same)).toBe('state');
      if (same.type !== 'state') return;
      expect(subOf(same.accessToken)).toBe(aliceSub);
      expect(same.state.user).toMatchObject({ sub: aliceSub, name: 'Alice Liddell' });

      await earlierVersionSignsIn(config, bobSub);
      const afterOverwrite = nextMessage();
      tell({ type: 'refresh' });
      const first = await afterOverwrite;
      expect(first.type, JSON.stringify(first)).toBe('state');
      if (first.type !== 'state') return;
      expect(subOf(first.accessToken)).toBe(bobSub);
      expect(first.state.user?.sub).toBe(bobSub);
      expect(first.state.user?.name).not.toBe('Alice Liddell');
      expect(first.events.some((state) => state.user?.sub === bobSub)).toBe(true);
      expect(stderrA).toContain('another user');
      expect(await storedSub(config)).toBe(bobSub);

      const again = nextMessage();
      tell({ type: 'refresh' });
      const second = await again;
      expect(second.type, JSON.stringify(second)).toBe('state');
      if (second.type !== 'state') return;
      expect(subOf(second.accessToken)).toBe(bobSub);
      expect(second.state.user?.sub).toBe(bobSub);
      expect(await storedSub(config)).toBe(bobSub);
    } finally {
      tell({ type: 'quit' });
      await exited;
    }
  });
});
