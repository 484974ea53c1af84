// The session's own logic against a scripted ProviderClient, with an injected
// clock and timers: margins, backoff, error classification, rotation, cross-process
// adoption. The end-to-end behaviour with the real provider, browser and keychain
// is in session.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { AuthError } from '../../../src/core/errors.ts';
import { createLogger } from '../../../src/core/log.ts';
import { createMemoryProfileCache, type ProfileCache } from '../../../src/core/entry/profile-cache.ts';
import type { ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import type { TokenResult } from '../../../src/core/protocol/flow-context.ts';
import { entryLockPath } from '../../../src/core/entry/lock.ts';
import { announceEntryChange } from '../../../src/core/entry/lock.ts';
import { createMemoryKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import { retryDelayMs } from '../../../src/core/tokens/retry-schedule.ts';
import { renewalTimes } from '../../../src/core/tokens/access-token.ts';
import type { Timers } from '../../../src/core/timers.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';
import type { AuthState } from '../../../src/shared/auth-state.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';

function fakeTimers(clock: { now: number }) {
  let pending: Array<{ at: number; callback: () => void; id: number }> = [];
  let nextId = 1;
  const timers: Timers = {
    setTimeout(callback, ms) {
      const id = nextId++;
      pending.push({ at: clock.now + ms, callback, id });
      return id;
    },
    clearTimeout(handle) {
      pending = pending.filter((timer) => timer.id !== handle);
    },
  };
  return {
    timers,
    delays: () => pending.map((timer) => timer.at - clock.now),
    async advance(ms: number) {
      clock.now += ms;
      const due = pending.filter((timer) => timer.at <= clock.now);
      pending = pending.filter((timer) => timer.at > clock.now);
      for (const timer of due) timer.callback();
      await settle();
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A provider that issues numbered tokens, rotates refresh tokens and remembers what it was asked. */
function scriptedProvider(clock: { now: number }, lifetimeMs = 5_000) {
  let issued = 0;
  const redeemed: string[] = [];
  const revoked: string[] = [];
  let failure: AuthError | undefined;
  let rotate = true;
  const provider: ProviderClient = {
    issuer: ISSUER,
    metadata: { revocation_endpoint: `${ISSUER}revoke` },
    async signIn() {
      issued++;
      return { accessToken: `at-${issued}`, refreshToken: `rt-${issued}`, idToken: `id-${issued}`, expiresAt: clock.now + lifetimeMs, user: { sub: 'alice', name: 'Alice Liddell' } };
    },
    // The device grant's polling is openid-client's (tested against real providers); here it ends with the same tokens a browser sign-in gets.
    async deviceSignIn({ onCode }) {
      onCode({ userCode: 'WDJB-MJHT', verificationUri: `${ISSUER}device`, verificationHost: new URL(ISSUER).host, expiresAt: clock.now + 600_000, issuer: ISSUER, clientId: 'latchkey' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      issued++;
      return { accessToken: `at-${issued}`, refreshToken: `rt-${issued}`, idToken: `id-${issued}`, expiresAt: clock.now + lifetimeMs, user: { sub: 'alice', name: 'Alice Liddell' } };
    },
    async refresh(refreshToken) {
      redeemed.push(refreshToken);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (failure) throw failure;
      issued++;
      const result: TokenResult = { accessToken: `at-${issued}`, expiresAt: clock.now + lifetimeMs };
      if (rotate) result.refreshToken = `rt-${issued}`;
      return result;
    },
    async revoke(refreshToken) {
      revoked.push(refreshToken);
    },
    endSessionUrl: () => `${ISSUER}session/end?client_id=${CLIENT}`,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/callback`,
  };
  return {
    provider,
    redeemed,
    revoked,
    fail(error: AuthError | undefined) {
      failure = error;
    },
    stopRotating() {
      rotate = false;
    },
  };
}

describe('auth session (scripted provider, injected clock)', () => {
  let dataDir: string;
  let config: AuthConfig;
  let clock: { now: number };
  let secretStore: Keychain;
  let profileStore: ProfileCache;
  const sessions: AuthSession[] = [];
  const account = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-session-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir, usesDemoProvider: true };
    clock = { now: 1_000_000 };
    secretStore = createMemoryKeychain();
    (secretStore as { kind: string }).kind = 'os';
    profileStore = createMemoryProfileCache();
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(provider: ProviderClient, timers?: Timers) {
    const session = await createAuthSession({
      config,
      opener: async () => {},
      keychain: secretStore,
      profileCache: profileStore,
      provider,
      clock: () => clock.now,
      logger: createLogger({ level: 'silent' }),
      random: () => 1,
      lockDir: dataDir,
      ...(timers ? { timers } : {}),
    });
    sessions.push(session);
    return session;
  }

  async function storeEntry(refreshToken: string, overrides: Record<string, unknown> = {}) {
    await secretStore.set(account, JSON.stringify({ v: 1, refresh_token: refreshToken, issuer: ISSUER, client_id: CLIENT, sub: 'alice', ...overrides }));
  }

  it('restores a stored session at once with the cached profile, without calling the provider', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-stored');
    profileStore.set(account, { user: { sub: 'alice', name: 'Alice Liddell' }, lastSignInAt: 1 });
    const session = await start(scripted.provider);
    expect(session.getState()).toMatchObject({ status: 'signed-in', user: { sub: 'alice', name: 'Alice Liddell' }, keychain: 'os' });
    expect(scripted.redeemed).toEqual([]);
    expect(await session.getAccessToken()).toBe('at-1');
    expect(scripted.redeemed).toEqual(['rt-stored']);
  });

  it('deletes an entry it cannot parse, or one for another issuer, and starts signed out', async () => {
    await secretStore.set(account, 'not json');
    expect((await start(scriptedProvider(clock).provider)).getState().status).toBe('signed-out');
    expect(await secretStore.get(account)).toBeNull();

    await storeEntry('rt-x', { issuer: 'https://elsewhere.example/' });
    expect((await start(scriptedProvider(clock).provider)).getState().status).toBe('signed-out');
    expect(await secretStore.get(account)).toBeNull();
  });

  it('hands out the current token inside the renewal margin while one background refresh renews it', async () => {
    const scripted = scriptedProvider(clock, 5_000);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    expect(await session.getAccessToken()).toBe('at-1');
    clock.now += 1_500; // before the margin (refresh from 1.75 s, hand out until 3 s)
    expect(await session.getAccessToken()).toBe('at-1');
    expect(scripted.redeemed).toHaveLength(1);
    clock.now += 1_000; // 2.5 s in: inside the margin, still handed out
    const during = await Promise.all(Array.from({ length: 10 }, () => session.getAccessToken()));
    expect(during.every((token) => token === 'at-1')).toBe(true);
    await vi.waitFor(() => expect(scripted.redeemed).toEqual(['rt-0', 'rt-1']));
    await vi.waitFor(async () => expect(await session.getAccessToken()).toBe('at-2'));
    clock.now += 3_100; // past the hand-out end of at-2: callers wait for a new one
    expect(await session.getAccessToken()).toBe('at-3');
  });

  it('coalesces concurrent callers into one refresh and stores the rotated token before the next', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    const tokens = await Promise.all([
      ...Array.from({ length: 50 }, () => session.getAccessToken()),
      ...Array.from({ length: 50 }, () => session.refreshAccessToken('at-unknown')),
    ]);
    expect(new Set(tokens)).toEqual(new Set(['at-1']));
    expect(scripted.redeemed).toEqual(['rt-0']);
    await session.close();
    expect(JSON.parse((await secretStore.get(account))!)).toMatchObject({ refresh_token: 'rt-1', sub: 'alice', v: 1 });
  });

  it('refreshes after a 401 only for the current token; a stale rejected token gets the newer one', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    const first = await session.getAccessToken();
    const second = await session.refreshAccessToken(first);
    expect(second).toBe('at-2');
    expect(await session.refreshAccessToken(first)).toBe('at-2');
    expect(scripted.redeemed).toEqual(['rt-0', 'rt-1']);
  });

  it('keeps the refresh token when a response carries none', async () => {
    const scripted = scriptedProvider(clock);
    scripted.stopRotating();
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    await session.getAccessToken();
    await session.refreshAccessToken('at-1');
    expect(scripted.redeemed).toEqual(['rt-0', 'rt-0']);
    expect(JSON.parse((await secretStore.get(account))!).refresh_token).toBe('rt-0');
  });

  it('redeems the token another process stored instead of the one it already redeemed', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    await session.getAccessToken();
    await vi.waitFor(async () => expect(JSON.parse((await secretStore.get(account))!).refresh_token).toBe('rt-1'));
    // What another process does when it rotates: announce the change, then store.
    announceEntryChange(entryLockPath(dataDir, config.keychainService, account));
    await storeEntry('rt-from-other-process');
    await session.refreshAccessToken('at-1');
    expect(scripted.redeemed).toEqual(['rt-0', 'rt-from-other-process']);
  });

  it('reads the keychain before redeeming only when another process announced a change', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    let reads = 0;
    const inner = secretStore;
    const counting: Keychain = { ...inner, kind: 'os', get: (key) => (key === account && reads++, inner.get(key)) };
    secretStore = counting;
    const session = await start(scripted.provider);
    const startupReads = reads;
    let token = await session.getAccessToken();
    // One look for a shared access token (it rides in the same entry, read without the lock), then the first
    // refresh of a restored session always re-reads the entry under the lock.
    const firstRefreshReads = startupReads + 2;
    expect(reads).toBe(firstRefreshReads);
    for (let i = 0; i < 3; i++) token = await session.refreshAccessToken(token);
    expect(reads).toBe(firstRefreshReads);
    // Another process announces only under the lock, which is ours until the last rotated token is stored.
    await session.whenIdle();
    announceEntryChange(entryLockPath(dataDir, config.keychainService, account));
    await session.refreshAccessToken(token);
    expect(reads).toBe(firstRefreshReads + 1);
    expect(scripted.redeemed).toEqual(['rt-0', 'rt-1', 'rt-2', 'rt-3', 'rt-4']);
  });

  it('signs out when the entry was deleted by another process (logout elsewhere)', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    await secretStore.delete(account);
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'signed_out' });
    expect(session.getState().status).toBe('signed-out');
    expect(scripted.redeemed).toEqual([]);
  });

  it('ends the session on invalid_grant: entry and cached profile deleted, the provider’s reason shown', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    profileStore.set(account, { user: { sub: 'alice' }, lastSignInAt: 1 });
    const session = await start(scripted.provider);
    const ended = 'Your session ended at the provider: it refused the refresh (invalid_grant — grant request is invalid). Sign in again.';
    scripted.fail(new AuthError('session_ended', ended));
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'session_ended' });
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'session_ended', message: ended } });
    expect(session.getState().user).toBeUndefined();
    expect(await secretStore.get(account)).toBeNull();
    expect(profileStore.get(account)).toBeUndefined();
  });

  it('refuses a refresh whose ID token names another user (OIDC Core §12.2), keeping the session and storing the rotated refresh token', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    profileStore.set(account, { user: { sub: 'alice', name: 'Alice Liddell' }, lastSignInAt: 1 });
    let claimedSub = 'alice';
    const provider: ProviderClient = {
      ...scripted.provider,
      refresh: async (refreshToken) => ({ ...(await scripted.provider.refresh(refreshToken)), user: { sub: claimedSub, name: `Claims of ${claimedSub}` } }),
    };
    const session = await start(provider);
    const first = await session.getAccessToken();
    expect(first).toBe('at-1');

    claimedSub = 'mallory';
    await expect(session.refreshAccessToken(first)).rejects.toMatchObject({ code: 'id_token_invalid' });
    expect(session.getState()).toMatchObject({ status: 'signed-in', user: { sub: 'alice', name: 'Claims of alice' }, error: { code: 'id_token_invalid' } });
    // Mallory's access token was never handed out; the spent refresh token was replaced, not deleted.
    expect(await session.getAccessToken()).toBe('at-1');
    expect(JSON.parse((await secretStore.get(account))!)).toMatchObject({ refresh_token: 'rt-2', sub: 'alice' });
    expect(profileStore.get(account)?.user).toEqual({ sub: 'alice', name: 'Claims of alice' });

    claimedSub = 'alice';
    expect(await session.refreshAccessToken(first)).toBe('at-3');
    expect(scripted.redeemed).toEqual(['rt-0', 'rt-1', 'rt-2']);
    expect(session.getState().error).toBeUndefined();
  });

  it.each(['provider_unreachable', 'provider_error'] as const)('keeps the token on %s, goes offline and retries with growing backoff until the provider is back', async (code) => {
    const scripted = scriptedProvider(clock);
    const fake = fakeTimers(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider, fake.timers);
    scripted.fail(new AuthError(code, 'down'));
    await expect(session.getAccessToken()).rejects.toMatchObject({ code });
    expect(session.getState()).toMatchObject({ status: 'offline', error: { code } });
    expect(JSON.parse((await secretStore.get(account))!).refresh_token).toBe('rt-0');
    expect(fake.delays()).toEqual([1_000]);
    await fake.advance(1_000);
    await vi.waitFor(() => expect(fake.delays()).toEqual([2_000]));
    expect(scripted.redeemed).toHaveLength(2);
    await fake.advance(2_000);
    await vi.waitFor(() => expect(fake.delays()).toEqual([4_000]));
    scripted.fail(undefined);
    await fake.advance(4_000);
    await vi.waitFor(() => expect(session.getState().status).toBe('signed-in'));
    expect(session.getState().error).toBeUndefined();
    expect(fake.delays()).toEqual([]);
    expect(await session.getAccessToken()).toBe('at-1');
  });

  it('while offline, callers fail fast instead of hammering the provider between backoff steps', async () => {
    const scripted = scriptedProvider(clock);
    const fake = fakeTimers(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider, fake.timers);
    scripted.fail(new AuthError('provider_unreachable', 'The provider could not be reached.'));
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'provider_unreachable' });
    const attempts = scripted.redeemed.length;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => session.getAccessToken()));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(scripted.redeemed.length).toBe(attempts);
    expect(fake.delays()).toEqual([1_000]);
  });

  it('a provider answering 429 keeps the session offline and is asked again no sooner than its Retry-After', async () => {
    const scripted = scriptedProvider(clock);
    const fake = fakeTimers(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider, fake.timers);
    const limited = new AuthError('provider_unreachable', 'The provider is rate-limiting requests (HTTP 429).');
    limited.retryAfterMs = 90_000;
    scripted.fail(limited);
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'provider_unreachable' });
    expect(session.getState().status).toBe('offline');
    expect(await secretStore.get(account)).not.toBeNull();
    expect(fake.delays()).toEqual([90_000]);
  });

  it('retryNow retries at once while offline', async () => {
    const scripted = scriptedProvider(clock);
    const fake = fakeTimers(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider, fake.timers);
    scripted.fail(new AuthError('provider_unreachable', 'down'));
    await session.getAccessToken().catch(() => {});
    scripted.fail(undefined);
    await session.retryNow();
    expect(session.getState().status).toBe('signed-in');
    expect(fake.delays()).toEqual([]);
  });

  it('renews short and long lifetimes ahead of expiry, leaving room for whole-second JWT expiry and the trip to the API', () => {
    expect(renewalTimes(0, 5_000)).toEqual({ refreshAt: 1_750, staleAt: 3_000 });
    expect(renewalTimes(0, 2_000)).toEqual({ refreshAt: 500, staleAt: 1_000 });
    expect(renewalTimes(0, 3_600_000)).toEqual({ refreshAt: 3_538_000, staleAt: 3_598_000 });
  });

  it('caps the backoff at five minutes and jitters it', () => {
    expect(retryDelayMs(0, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, () => 1)).toBe(8_000);
    expect(retryDelayMs(20, () => 1)).toBe(300_000);
    expect(retryDelayMs(20, () => 0)).toBe(150_000);
  });

  it('reports a memory-only keychain with a message, and still works', async () => {
    secretStore = createMemoryKeychain('The OS keychain is not available, so your session won’t survive a restart.');
    const session = await start(scriptedProvider(clock).provider);
    expect(session.getState()).toMatchObject({ status: 'signed-out', keychain: 'memory-only', error: { code: 'keychain_unavailable' } });
    await session.signIn();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'memory-only', error: { code: 'keychain_unavailable' } });
    expect(await session.getAccessToken()).toBe('at-1');
  });

  it('falls back to memory only when the keychain refuses to store, never to a file', async () => {
    secretStore = { ...createMemoryKeychain(), kind: 'os', set: () => Promise.reject(new AuthError('keychain_unavailable', 'locked')) };
    const session = await start(scriptedProvider(clock).provider);
    await session.signIn();
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'memory-only', error: { code: 'keychain_unavailable' } });
    expect(await session.getAccessToken()).toBe('at-1');
  });

  it('a new login cancels the pending one; cancelSignIn returns to the previous status', async () => {
    const provider: ProviderClient = {
      ...scriptedProvider(clock).provider,
      signIn: ({ signal }) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new AuthError('sign_in_cancelled', 'aborted')))),
    };
    const session = await start(provider);
    const states: string[] = [];
    session.onStateChange((state) => states.push(state.status));
    const first = session.signIn();
    const second = session.signIn();
    await expect(first).rejects.toMatchObject({ code: 'sign_in_cancelled' });
    expect(session.getState().status).toBe('signing-in');
    session.cancelSignIn();
    await expect(second).rejects.toMatchObject({ code: 'sign_in_cancelled' });
    expect(session.getState().status).toBe('signed-out');
    expect(session.getState().error).toBeUndefined();
    expect(states).toEqual(['signing-in', 'signing-in', 'signed-out']);
  });

  it('a refresh or an outage while a new sign-in is pending does not hide the pending sign-in', async () => {
    const scripted = scriptedProvider(clock);
    const fake = fakeTimers(clock);
    await storeEntry('rt-0');
    let finishSignIn!: (result: TokenResult) => void;
    const provider: ProviderClient = { ...scripted.provider, signIn: () => new Promise((resolve) => (finishSignIn = resolve)) };
    const session = await start(provider, fake.timers);
    const pending = session.signIn();
    await settle();
    scripted.fail(new AuthError('provider_unreachable', 'down'));
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'provider_unreachable' });
    expect(session.getState().status).toBe('signing-in');
    scripted.fail(undefined);
    await session.retryNow();
    expect(session.getState().status).toBe('signing-in');
    finishSignIn({ accessToken: 'at-new', refreshToken: 'rt-new', expiresAt: clock.now + 5_000, user: { sub: 'alice' } });
    await pending;
    expect(session.getState().status).toBe('signed-in');
    await session.close();
    expect(scripted.revoked).toEqual(['rt-1']);
    expect(JSON.parse((await secretStore.get(account))!).refresh_token).toBe('rt-new');
  });

  it('a sign-in with a code is stored like a browser sign-in: its code is a state event while signing in, then the new session is in the keychain and the replaced one revoked', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start(scripted.provider);
    const seen: AuthState[] = [];
    session.onStateChange((state) => seen.push(state));
    const signedIn = await session.signIn({ method: 'device' });
    expect(seen).toContainEqual(expect.objectContaining({ status: 'signing-in', deviceCode: expect.objectContaining({ userCode: 'WDJB-MJHT', verificationUri: `${ISSUER}device` }) }));
    expect(signedIn).toMatchObject({ status: 'signed-in', user: { sub: 'alice', name: 'Alice Liddell' } });
    expect(signedIn.deviceCode).toBeUndefined();
    expect(JSON.parse((await secretStore.get(account))!).refresh_token).toBe('rt-1');
    await session.close();
    expect(scripted.revoked).toEqual(['rt-0']);
  });

  it('a failed login goes back to the previous status with the error', async () => {
    const provider: ProviderClient = { ...scriptedProvider(clock).provider, signIn: () => Promise.reject(new AuthError('sign_in_denied', 'You declined.')) };
    const session = await start(provider);
    await expect(session.signIn()).rejects.toMatchObject({ code: 'sign_in_denied' });
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'sign_in_denied', message: 'You declined.' } });
  });

  it('logout revokes, forgets everything local and returns the end-session URL without the ID token', async () => {
    const scripted = scriptedProvider(clock);
    const session = await start(scripted.provider);
    await session.signIn();
    expect(profileStore.get(account)?.user.name).toBe('Alice Liddell');
    const { endSessionUrl } = await session.signOut();
    expect(endSessionUrl).toBe(`${ISSUER}session/end?client_id=${CLIENT}`);
    expect(scripted.revoked).toEqual(['rt-1']);
    expect(await secretStore.get(account)).toBeNull();
    expect(profileStore.get(account)).toBeUndefined();
    expect(session.getState()).toMatchObject({ status: 'signed-out' });
    await expect(session.getAccessToken()).rejects.toMatchObject({ code: 'signed_out' });
  });

  it('logout while the provider is unreachable still clears everything local', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start({ ...scripted.provider, revoke: () => Promise.reject(new AuthError('provider_unreachable', 'down')) });
    const result = await session.signOut();
    expect(await secretStore.get(account)).toBeNull();
    expect(result).toMatchObject({ revoked: false, revocation: 'unreachable', notice: { code: 'provider_unreachable' } });
    expect(result.notice?.message).toBe('Signed out on this computer only: the provider could not be reached to revoke the session. It stays valid at the provider until it expires.');
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: result.notice });
  });

  it('logout says the provider refused the revocation — not that it could not be reached — and promises no retry', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const refusal = new AuthError('provider_error', 'The provider refused to revoke the session (HTTP 401).');
    const session = await start({ ...scripted.provider, revoke: () => Promise.reject(refusal) });
    const result = await session.signOut();
    expect(result).toMatchObject({ revoked: false, revocation: 'refused' });
    expect(result.notice).toEqual({ code: 'provider_error', message: 'Signed out on this computer only: the provider refused to revoke the session (HTTP 401). It stays valid at the provider until it expires.' });
    expect(session.getState().error).toEqual(result.notice);
    expect(result.notice?.message).not.toMatch(/reached|try again/);
  });

  it('logout with a provider that offers no revocation says the provider was not told', async () => {
    const scripted = scriptedProvider(clock);
    await storeEntry('rt-0');
    const session = await start({ ...scripted.provider, metadata: {} });
    const result = await session.signOut();
    expect(result).toMatchObject({ revoked: false, revocation: 'unsupported', notice: { message: expect.stringMatching(/offers no token revocation/) } });
    expect(scripted.revoked).toEqual([]);
  });
  it('a provider that offers DPoP but answers the sign-in with unbound tokens: refused under required (nothing stored), kept under auto with its key', async () => {
    const scripted = scriptedProvider(clock);
    const offering: ProviderClient = { ...scripted.provider, metadata: { ...scripted.provider.metadata, dpop_signing_alg_values_supported: ['ES256'] } };
    config = { ...config, dpop: 'required' };
    const strict = await start(offering);
    await expect(strict.signIn()).rejects.toMatchObject({ code: 'provider_error', message: expect.stringMatching(/^DPoP is required \(AUTH_DPOP=required\) but the provider at .* answered the sign-in with unbound \(bearer\) tokens/) });
    expect(strict.getState().status).toBe('signed-out');
    expect(await secretStore.get(account)).toBeNull();
    await strict.close();
    expect(scripted.revoked).toEqual(['rt-1']);

    config = { ...config, dpop: 'auto' };
    const lenient = await start(offering);
    await lenient.signIn();
    expect(lenient.getState().accessToken?.dpop).toBeUndefined();
    // The refresh token may still be bound (RFC 9449 §5: public clients' are): the key stays with it.
    expect(JSON.parse((await secretStore.get(account)) as string)).toMatchObject({ refresh_token: 'rt-2', dpop_key: { kty: 'EC', crv: 'P-256' } });
  });
});
