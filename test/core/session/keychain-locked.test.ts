// A locked (or refusing) keychain is not a signed-out user: the session's
// logic against a keychain the test locks, unlocks and makes refuse. The real
// gnome-keyring, locked over D-Bus, is in test/cli/keychain-locked.test.ts and
// the renderer test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { AuthError } from '../../../src/core/errors.ts';
import { createLogger } from '../../../src/core/log.ts';
import { createMemoryProfileCache, type ProfileCache } from '../../../src/core/entry/profile-cache.ts';
import type { ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import { acquireEntryLock, announceEntryChange, entryLockPath } from '../../../src/core/entry/lock.ts';
import type { ItemState } from '../../../src/core/keychain/secret-service.ts';
import { createMemoryKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { createAuthSession, startAuthSession } from '../../../src/core/session/start.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';
const account = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

/** A keychain that can be locked: reads of a locked entry yield nothing and writes fail, as libsecret's do; `entryLock` is what the Secret Service would say. */
function lockableKeychain(options: { tellsLocks: boolean }) {
  const inner = createMemoryKeychain();
  const keychain = { locked: false, deletes: 0, present: true };
  const store: Keychain = {
    kind: 'os',
    get: async (key) => (keychain.locked ? null : inner.get(key)),
    set: async (key, secret) => {
      if (keychain.locked) throw new AuthError('keychain_unavailable', 'Cannot create an item in a locked collection');
      await inner.set(key, secret);
    },
    delete: async (key) => {
      keychain.deletes++;
      if (!keychain.locked) await inner.delete(key);
    },
    ...(options.tellsLocks
      ? {
          itemState: async (key: string): Promise<ItemState> => ((await inner.get(key)) === null ? 'absent' : keychain.locked ? 'locked' : 'unlocked'),
          isLocked: async () => keychain.locked,
        }
      : {}),
  };
  return { store, keychain, stored: () => inner.get(account) };
}

function countingProvider() {
  const calls = { signIn: 0, refresh: 0 };
  let issued = 0;
  const provider: ProviderClient = {
    issuer: ISSUER,
    metadata: {},
    deviceSignIn: () => Promise.reject(new Error('this scripted provider offers no sign-in with a code')),
    async signIn() {
      calls.signIn++;
      issued++;
      return { accessToken: `at-${issued}`, refreshToken: `rt-${issued}`, expiresAt: Date.now() + 60_000, user: { sub: 'alice', name: 'Alice Liddell' } };
    },
    async refresh() {
      calls.refresh++;
      issued++;
      return { accessToken: `at-${issued}`, refreshToken: `rt-${issued}`, expiresAt: Date.now() + 60_000 };
    },
    async revoke() {},
    endSessionUrl: () => undefined,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/callback`,
  };
  return { provider, calls };
}

describe('a keychain that is locked or refuses access (scripted keychain)', () => {
  let dataDir: string;
  let config: AuthConfig;
  let profileStore: ProfileCache;
  const sessions: AuthSession[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-locked-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir, usesDemoProvider: true };
    profileStore = createMemoryProfileCache();
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  let logLines: string[] = [];
  const logger = () => createLogger({ level: 'info', sink: (line) => logLines.push(line) });
  beforeEach(() => {
    logLines = [];
  });

  async function start(secretStore: Keychain, provider: ProviderClient) {
    const session = await createAuthSession({ config, opener: async () => {}, keychain: secretStore, profileCache: profileStore, provider, lockDir: dataDir, logger: logger() });
    sessions.push(session);
    return session;
  }

  /** Resolves once this process logged that it waits for another holder of the entry's lock. */
  async function waitingForTheLock(): Promise<void> {
    while (!logLines.some((line) => line.includes('waiting for another process to finish with the keychain entry'))) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  const entryLock = () => acquireEntryLock(entryLockPath(dataDir, config.keychainService, account));
  const storedEntry = (refreshToken: string) => JSON.stringify({ v: 1, refresh_token: refreshToken, issuer: ISSUER, client_id: CLIENT, sub: 'alice' });

  async function signedInThenLocked(options: { tellsLocks: boolean }) {
    const lockable = lockableKeychain(options);
    const scripted = countingProvider();
    const first = await start(lockable.store, scripted.provider);
    await first.signIn();
    await first.close();
    lockable.keychain.locked = true;
    return { ...lockable, ...scripted };
  }

  it('a stored session the Secret Service reports locked is "keychain locked", not signed out, and comes back after unlocking without a sign-in', async () => {
    const { store, keychain, calls } = await signedInThenLocked({ tellsLocks: true });
    const session = await start(store, countingProvider().provider);
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'locked', user: { name: 'Alice Liddell' }, error: { code: 'keychain_locked' } });
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'keychain_locked' });
    await expect(session.signOut()).rejects.toMatchObject({ code: 'keychain_locked' });
    await expect(session.signIn()).rejects.toMatchObject({ code: 'keychain_locked' });
    expect(keychain.deletes).toBe(0);
    expect(profileStore.get(account)).toBeDefined();

    // Looking again while still locked changes nothing; after unlocking, a look (focus, resume) is enough.
    expect(await session.retryKeychain('check')).toMatchObject({ keychain: 'locked' });
    keychain.locked = false;
    await session.retryNow();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os' });
    expect(session.getState().error).toBeUndefined();
    expect(await session.getAccessToken()).toMatch(/^at-/);
    expect(calls.signIn).toBe(1);
  });

  it('where the keychain cannot tell (no Secret Service word), nothing for a stored session on Linux still reads as locked', async () => {
    const { store, keychain } = await signedInThenLocked({ tellsLocks: false });
    const session = await start(store, countingProvider().provider);
    expect(session.getState().keychain).toBe(process.platform === 'linux' ? 'locked' : 'os');
    keychain.locked = false;
    expect(await session.retryKeychain('prompt')).toMatchObject({ status: 'signed-in', keychain: 'os' });
  });

  it('an entry the Secret Service says is gone is a signed-out user, and the stale profile is forgotten', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    profileStore.set(account, { user: { sub: 'alice', name: 'Alice Liddell' }, lastSignInAt: 1 });
    const session = await start(lockable.store, countingProvider().provider);
    expect(session.getState()).toMatchObject({ status: 'signed-out', keychain: 'os' });
    expect(session.getState().error).toBeUndefined();
    expect(profileStore.get(account)).toBeUndefined();
  });

  it('a keychain that refuses to read a stored session (macOS "Deny") is "refused": kept, named, and only the user’s retry asks again', async () => {
    const lockable = lockableKeychain({ tellsLocks: false });
    const scripted = countingProvider();
    await (await start(lockable.store, scripted.provider)).signIn();
    let reads = 0;
    const refusing: Keychain = {
      ...lockable.store,
      get: async () => {
        reads++;
        throw new AuthError('keychain_unavailable', 'The user name or passphrase you entered is not correct.');
      },
    };
    const session = await start(refusing, scripted.provider);
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'refused', error: { code: 'keychain_refused', message: /refused access/ } });
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'keychain_refused' });
    await expect(session.signOut()).rejects.toMatchObject({ code: 'keychain_refused' });
    expect(lockable.keychain.deletes).toBe(0);
    const readsBefore = reads;
    await session.retryKeychain('check');
    expect(reads).toBe(readsBefore);
    await session.retryKeychain('prompt');
    expect(reads).toBe(readsBefore + 1);
  });

  it('sign-in with a locked keychain asks to unlock first, before the browser opens', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    await lockable.store.set('someone-else', 'x');
    lockable.keychain.locked = true;
    const scripted = countingProvider();
    const session = await start(lockable.store, scripted.provider);
    expect(session.getState()).toMatchObject({ status: 'signed-out', keychain: 'os' });
    await expect(session.signIn()).rejects.toMatchObject({ code: 'keychain_locked', message: /^Your keychain is locked — unlock it .*then sign in/ });
    expect(scripted.calls.signIn).toBe(0);
  });

  it('a rotated refresh token the keychain refuses while locked stays in memory and is stored on unlock: never memory-only, nothing deleted', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    const scripted = countingProvider();
    const session = await start(lockable.store, scripted.provider);
    await session.signIn();
    lockable.keychain.locked = true;
    const rotated = await session.refreshAccessToken(await session.getAccessToken());
    await session.whenIdle();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'locked', error: { code: 'keychain_locked' } });
    expect(await session.getAccessToken()).toBe(rotated);
    expect(lockable.keychain.deletes).toBe(0);
    lockable.keychain.locked = false;
    await session.retryNow();
    expect(session.getState().keychain).toBe('os');
    expect(JSON.parse((await lockable.stored()) as string)).toMatchObject({ refresh_token: 'rt-2' });
  });

  it('the write a locked keychain refused is retried only under the lock: nothing is written while another process holds it, and nothing over the entry it stored meanwhile', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    const session = await start(lockable.store, countingProvider().provider);
    await session.signIn();
    lockable.keychain.locked = true;
    // The rotated rt-2 waits in memory: the keychain still holds rt-1.
    await session.refreshAccessToken(await session.getAccessToken());
    await session.whenIdle();
    expect(session.getState().keychain).toBe('locked');

    // Another process holds the entry's lock when the keychain is unlocked and this one looks again.
    const other = await entryLock();
    lockable.keychain.locked = false;
    const retried = session.retryNow();
    await Promise.race([retried, waitingForTheLock()]);
    expect(JSON.parse((await lockable.stored()) as string)).toMatchObject({ refresh_token: 'rt-1' });
    // That process stores a newer session (a sign-in) and lets go: this one's older rt-2 is not stored over it.
    other.announceChange();
    await lockable.store.set(account, storedEntry('rt-9'));
    await other.release();
    await retried;
    expect(JSON.parse((await lockable.stored()) as string)).toMatchObject({ refresh_token: 'rt-9' });
    expect(logLines.some((line) => line.includes('not storing this process’s older session over it'))).toBe(true);
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os' });
  });

  it('an unusable entry found without the lock is deleted only under it, and not once another process stored a session over it', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    await lockable.store.set(account, 'not a session');
    const other = await entryLock();
    const session = startAuthSession({ config, opener: async () => {}, keychain: lockable.store, profileCache: profileStore, provider: countingProvider().provider, lockDir: dataDir, logger: logger() });
    sessions.push(session);
    await Promise.race([session.whenStarted(), waitingForTheLock()]);
    expect(lockable.keychain.deletes).toBe(0);
    other.announceChange();
    await lockable.store.set(account, storedEntry('rt-9'));
    await other.release();
    await session.whenStarted();
    expect(lockable.keychain.deletes).toBe(0);
    expect(JSON.parse((await lockable.stored()) as string)).toMatchObject({ refresh_token: 'rt-9' });
    expect(session.getState()).toMatchObject({ status: 'signed-in', user: { sub: 'alice' } });
  });

  it('an unusable entry is deleted under the lock when no one replaced it', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    await lockable.store.set(account, 'not a session');
    const session = await start(lockable.store, countingProvider().provider);
    expect(session.getState().status).toBe('signed-out');
    expect(await lockable.stored()).toBeNull();
  });

  it('while locked, a refresh after another process changed the entry fails as locked instead of redeeming a token that may be spent', async () => {
    const lockable = lockableKeychain({ tellsLocks: true });
    const scripted = countingProvider();
    const session = await start(lockable.store, scripted.provider);
    await session.signIn();
    lockable.keychain.locked = true;
    // A first refresh while locked: its rotated token waits in memory, and the session knows the keychain is locked.
    const rotated = await session.refreshAccessToken(await session.getAccessToken());
    await session.whenIdle();
    expect(session.getState().keychain).toBe('locked');
    announceEntryChange(entryLockPath(dataDir, config.keychainService, account));
    await expect(session.refreshAccessToken(rotated)).rejects.toMatchObject({ code: 'keychain_locked' });
    expect(scripted.calls.refresh).toBe(1);
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'locked' });
  });
});
