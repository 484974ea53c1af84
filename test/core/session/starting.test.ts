// The session exists from the first moment, in a `starting` state, while it reads the
// stored session — which may wait on a keychain unlock prompt for as long as the user
// takes. (Formerly the shell's stand-in session, src/main/starting-session.ts.) The
// keychain is scripted so the test can hold a read open; the session is the real one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { createLogger } from '../../../src/core/log.ts';
import { createMemoryProfileCache, type ProfileCache } from '../../../src/core/entry/profile-cache.ts';
import type { ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import { createMemoryKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { createAuthSession, startAuthSession } from '../../../src/core/session/start.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';
import type { AuthState } from '../../../src/shared/auth-state.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';
const account = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

/** An OS keychain whose reads of the session entry can be held open, as an unlock prompt holds them; it says it is waiting on the user first. */
function promptingKeychain() {
  const inner = createMemoryKeychain();
  let open!: () => void;
  const prompt = { held: false, answered: new Promise<void>((resolve) => (open = resolve)), reads: 0 };
  const store: Keychain = {
    kind: 'os',
    get: async (key, options) => {
      if (prompt.held && key === account) {
        // A keychain says it waits on the user only once its prompt has been open a moment.
        setTimeout(() => options?.onWaiting?.(), 20);
        await prompt.answered;
        prompt.reads++;
      }
      return inner.get(key);
    },
    set: (key, secret) => inner.set(key, secret),
    delete: (key) => inner.delete(key),
  };
  return { store, prompt, unlock: () => open() };
}

function scriptedProvider() {
  const calls = { refresh: 0 };
  const provider: ProviderClient = {
    issuer: ISSUER,
    metadata: {},
    signIn: async () => ({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() + 60_000, user: { sub: 'alice', name: 'Alice Liddell' } }),
    deviceSignIn: () => Promise.reject(new Error('this scripted provider offers no sign-in with a code')),
    async refresh() {
      calls.refresh++;
      return { accessToken: `at-r${calls.refresh}`, refreshToken: `rt-r${calls.refresh}`, expiresAt: Date.now() + 60_000 };
    },
    async revoke() {},
    endSessionUrl: () => undefined,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/callback`,
  };
  return { provider, calls };
}

const settledYet = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('the session while it reads the stored session (scripted keychain)', () => {
  let dataDir: string;
  let config: AuthConfig;
  let profileStore: ProfileCache;
  const sessions: AuthSession[] = [];
  const prompts: Array<() => void> = [];
  const unlockAll = () => prompts.splice(0).forEach((unlock) => unlock());

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-starting-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir, usesDemoProvider: true };
    profileStore = createMemoryProfileCache();
  });
  afterEach(async () => {
    unlockAll();
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const deps = (secretStore: Keychain, provider: ProviderClient) => ({ config, opener: async () => {}, keychain: secretStore, profileCache: profileStore, provider, lockDir: dataDir, logger: createLogger({ level: 'silent' }) });

  /** A session signed in and closed (the app quit): its entry, with the shared access token, is in the keychain; the next read of it will wait on a prompt. */
  async function storedSessionBehindPrompt() {
    const keychain = promptingKeychain();
    const scripted = scriptedProvider();
    const first = await createAuthSession(deps(keychain.store, scripted.provider));
    await first.signIn();
    await first.close();
    keychain.prompt.held = true;
    prompts.push(keychain.unlock);
    const session = startAuthSession(deps(keychain.store, scripted.provider));
    sessions.push(session);
    return { session, keychain, scripted };
  }

  it('says "starting" — never signed out — and tells the window when the keychain waits on the user', async () => {
    const { session, keychain } = await storedSessionBehindPrompt();
    const seen: AuthState[] = [];
    session.onStateChange((state) => seen.push(state));
    expect(session.getState()).toEqual({ status: 'starting' });
    await expect.poll(() => session.getState()).toEqual({ status: 'starting', keychainWaiting: true });
    expect(seen).toEqual([{ status: 'starting', keychainWaiting: true }]);
    keychain.unlock();
    await session.whenStarted();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os', user: { name: 'Alice Liddell' } });
  });

  it('calls made before the session is read wait for it, then are answered by it', async () => {
    const { session, keychain, scripted } = await storedSessionBehindPrompt();
    const token = session.getAccessToken();
    const refreshed = session.refreshAccessToken('old');
    expect(await settledYet(token)).toBe(false);
    expect(await settledYet(refreshed)).toBe(false);
    keychain.unlock();
    // The access token the first session shared, from the same keychain read: no refresh was needed.
    expect(await token).toBe('at-1');
    expect(await refreshed).toBe('at-1');
    expect(scripted.calls.refresh).toBe(0);
  });

  it('once read, its state and events are the stored session’s, to listeners that subscribed while it started', async () => {
    const { session, keychain } = await storedSessionBehindPrompt();
    const seen: AuthState[] = [];
    const unsubscribe = session.onStateChange((state) => seen.push(state));
    await expect.poll(() => seen.length).toBe(1);
    keychain.unlock();
    await session.whenStarted();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os', user: { sub: 'alice' } });
    unsubscribe();
    await session.signOut();
    expect(session.getState().status).toBe('signed-out');
    expect(seen.map((state) => [state.status, state.keychain ?? null, state.keychainWaiting ?? false])).toEqual([
      ['starting', null, true],
      ['signed-in', 'os', false],
    ]);
  });

  it('a quit before the session is read waits for the read, then closes it', async () => {
    const { session, keychain } = await storedSessionBehindPrompt();
    const closing = session.close();
    expect(await settledYet(closing)).toBe(false);
    keychain.unlock();
    await closing;
    expect(keychain.prompt.reads).toBe(1);
    await expect(session.signIn()).rejects.toMatchObject({ code: 'sign_in_cancelled' });
  });
});
