// Several accounts at one provider, against a scripted ProviderClient and a keychain in memory that behaves as
// the OS's (shared): which entry each account lives in, which account a session acts for, renewing and adding,
// signing out of one, and a session stored by a version from before accounts. The same against the demo provider,
// the real keychain and Chromium is in test/cli/accounts.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAccountIndex } from '../../../src/core/accounts/account-index.ts';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { entryLockPath, readEntryGeneration } from '../../../src/core/entry/lock.ts';
import { createMemoryProfileCache, type ProfileCache } from '../../../src/core/entry/profile-cache.ts';
import { createMemoryKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import { createLogger } from '../../../src/core/log.ts';
import { AuthError } from '../../../src/core/errors.ts';
import type { BrowserSignInOptions } from '../../../src/core/protocol/browser-sign-in.ts';
import type { ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import type { AuthSession } from '../../../src/core/session/auth-session.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import type { UserProfile } from '../../../src/shared/auth-state.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';
const ALICE: UserProfile = { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com' };
const BOB: UserProfile = { sub: 'bob', name: 'Bob Builder', email: 'bob@example.com' };

/** A provider whose next sign-in comes back as `signsIn.user`; tokens name their user, and every request is remembered. */
function scriptedProvider(clock: { now: number }) {
  let issued = 0;
  const signsIn = { user: ALICE };
  const refreshes: { failWith?: Error } = {};
  const redeemed: string[] = [];
  const revoked: string[] = [];
  const parameters: Array<Record<string, string> | undefined> = [];
  const provider: ProviderClient = {
    issuer: ISSUER,
    metadata: { revocation_endpoint: `${ISSUER}revoke` },
    async signIn(options: BrowserSignInOptions) {
      parameters.push(options.parameters);
      issued++;
      const { sub } = signsIn.user;
      return { accessToken: `at-${sub}-${issued}`, refreshToken: `rt-${sub}-${issued}`, expiresAt: clock.now + 600_000, user: { ...signsIn.user } };
    },
    async deviceSignIn() {
      throw new Error('not used');
    },
    async refresh(refreshToken) {
      redeemed.push(refreshToken);
      if (refreshes.failWith) throw refreshes.failWith;
      issued++;
      const sub = refreshToken.split('-')[1];
      return { accessToken: `at-${sub}-${issued}`, refreshToken: `rt-${sub}-${issued}`, expiresAt: clock.now + 600_000 };
    },
    async revoke(token) {
      revoked.push(token);
    },
    endSessionUrl: () => undefined,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/callback`,
  };
  return { provider, signsIn, refreshes, redeemed, revoked, parameters };
}

/** A keychain in memory that says it is the OS's (so entries are shared, as between processes) and lists what is touched. */
function sharedMemoryKeychain() {
  const keychain = createMemoryKeychain();
  (keychain as { kind: string }).kind = 'os';
  const touched: string[] = [];
  const watched: Keychain = {
    kind: 'os',
    get: (account, options) => (touched.push(`get ${account}`), keychain.get(account, options)),
    set: (account, secret) => (touched.push(`set ${account}`), keychain.set(account, secret)),
    delete: (account) => (touched.push(`delete ${account}`), keychain.delete(account)),
  };
  return { keychain: watched, touched, raw: keychain };
}

describe('accounts (scripted provider)', () => {
  let lockDir: string;
  let config: AuthConfig;
  let clock: { now: number };
  let store: ReturnType<typeof sharedMemoryKeychain>;
  let profiles: ProfileCache;
  let scripted: ReturnType<typeof scriptedProvider>;
  const sessions: AuthSession[] = [];
  const base = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'latchkey-accounts-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', prompt: 'consent', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir: lockDir, usesDemoProvider: true };
    clock = { now: 1_000_000 };
    store = sharedMemoryKeychain();
    profiles = createMemoryProfileCache();
    scripted = scriptedProvider(clock);
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await rm(lockDir, { recursive: true, force: true });
  });

  async function start(account?: string): Promise<AuthSession> {
    const session = await createAuthSession({
      config,
      opener: async () => {},
      keychain: store.keychain,
      profileCache: profiles,
      provider: scripted.provider,
      clock: () => clock.now,
      logger: createLogger({ level: 'silent' }),
      lockDir,
      ...(account !== undefined ? { account } : {}),
    });
    sessions.push(session);
    return session;
  }

  const index = () => openAccountIndex(config, lockDir);
  const stored = async (entry: string) => JSON.parse((await store.raw.get(entry)) ?? 'null') as { refresh_token: string; sub: string } | null;

  async function signInBoth(): Promise<void> {
    const session = await start();
    await session.signIn({ adding: true });
    scripted.signsIn.user = BOB;
    await session.signIn({ adding: true });
  }

  it('a second sign-in adds an account in an entry of its own, becomes the default and leaves the first signed in', async () => {
    const session = await start();
    const first = await session.signIn({ adding: true });
    expect(first.account).toBe('alice@example.com');
    // The first account: signed in as before (no chooser), kept where earlier versions kept the one session.
    expect(scripted.parameters[0]).toEqual({});
    expect((await stored(base))?.sub).toBe('alice');

    scripted.signsIn.user = BOB;
    const second = await session.signIn({ adding: true });
    expect(second.account).toBe('bob@example.com');
    expect(second.user?.sub).toBe('bob');
    // Adding one beside another asks for the account chooser (the generic preset: OpenID Connect's `login`), with the configured prompt.
    expect(scripted.parameters[1]).toEqual({ prompt: 'login consent' });
    expect((await stored(`${base}#sub:bob`))?.sub).toBe('bob');
    expect((await stored(base))?.sub).toBe('alice');
    const list = index().read();
    expect(list.accounts.map((account) => [account.name, account.sub, account.entry])).toEqual([
      ['alice@example.com', 'alice', base],
      ['bob@example.com', 'bob', `${base}#sub:bob`],
    ]);
    expect(list.defaultSub).toBe('bob');
    // Neither was replaced, so nothing was revoked.
    expect(scripted.revoked).toEqual([]);
  });

  it('a session acts for the account it was given, by name or sub, whatever becomes the default afterwards', async () => {
    await signInBoth();
    const alice = await start('alice@example.com');
    const bySub = await start('bob');
    const byDefault = await start();
    expect(alice.getState()).toMatchObject({ status: 'signed-in', account: 'alice@example.com', user: { sub: 'alice' } });
    expect(bySub.getState()).toMatchObject({ account: 'bob@example.com', user: { sub: 'bob' } });
    expect(byDefault.getState().account).toBe('bob@example.com');
    expect(await alice.getAccessToken()).toMatch(/^at-alice-/);
    expect(await byDefault.getAccessToken()).toMatch(/^at-bob-/);

    await index().setDefault('alice');
    // The running session keeps bob; a new one starts with the new default.
    expect(byDefault.getState().account).toBe('bob@example.com');
    expect(await byDefault.refreshAccessToken(await byDefault.getAccessToken())).toMatch(/^at-bob-/);
    expect((await start()).getState().account).toBe('alice@example.com');
  });

  it('a refresh of one account touches only its own entry: no read, write or lock of the other', async () => {
    await signInBoth();
    const alice = await start('alice');
    const bobGeneration = readEntryGeneration(entryLockPath(lockDir, config.keychainService, `${base}#sub:bob`));
    store.touched.length = 0;
    await alice.refreshAccessToken(await alice.getAccessToken());
    // The rotated token is stored before the next refresh may start: wait for that write too.
    await alice.whenIdle();
    expect(store.touched.length).toBeGreaterThan(0);
    expect(store.touched.filter((touch) => !touch.endsWith(` ${base}`) && !touch.endsWith(` ${base}#access-token`))).toEqual([]);
    expect(readEntryGeneration(entryLockPath(lockDir, config.keychainService, `${base}#sub:bob`))).toBe(bobGeneration);
    expect(scripted.redeemed.every((token) => token.startsWith('rt-alice-'))).toBe(true);
  });

  it('renewing an account hints at it, and a sign-in that comes back as another user is refused with nothing changed', async () => {
    await signInBoth();
    const bob = await start('bob@example.com');
    const before = { alice: await store.raw.get(base), bob: await store.raw.get(`${base}#sub:bob`), index: index().read() };
    scripted.signsIn.user = ALICE;
    const refused = await bob.signIn().catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'account_mismatch' });
    expect((refused as Error).message).toContain('alice@example.com');
    expect((refused as Error).message).toContain('bob@example.com');
    expect(scripted.parameters.at(-1)).toEqual({ login_hint: 'bob@example.com' });
    expect(await store.raw.get(base)).toBe(before.alice);
    expect(await store.raw.get(`${base}#sub:bob`)).toBe(before.bob);
    expect(index().read()).toEqual(before.index);
    expect(bob.getState()).toMatchObject({ status: 'signed-in', account: 'bob@example.com' });

    // The right user renews it: the replaced refresh token is revoked, the other account untouched.
    scripted.signsIn.user = BOB;
    const replaced = (await stored(`${base}#sub:bob`))!.refresh_token;
    await bob.signIn();
    expect((await stored(`${base}#sub:bob`))!.refresh_token).not.toBe(replaced);
    await bob.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(scripted.revoked).toContain(replaced);
    expect(await store.raw.get(base)).toBe(before.alice);
  });

  it('signing out of one account leaves the other signed in, and names the next default', async () => {
    await signInBoth();
    const bob = await start();
    const result = await bob.signOut();
    expect(result).toMatchObject({ account: 'bob@example.com', nextDefault: 'alice@example.com' });
    expect(await store.raw.get(`${base}#sub:bob`)).toBeNull();
    expect((await stored(base))?.sub).toBe('alice');
    expect(index().read()).toMatchObject({ defaultSub: 'alice', accounts: [{ sub: 'alice' }] });
    expect(await (await start()).getAccessToken()).toMatch(/^at-alice-/);
  });

  it('two first sign-ins at once: the one that finds the shared first entry taken by another user stores its own, never over it', async () => {
    const session = await start();
    // Another process's first sign-in (carol) stored into the first entry after this one started and before it adopts.
    const carol = JSON.stringify({ v: 1, refresh_token: 'rt-carol-elsewhere', issuer: ISSUER, client_id: CLIENT, sub: 'carol' });
    await store.raw.set(base, carol);
    scripted.signsIn.user = BOB;
    const state = await session.signIn({ adding: true });
    expect(state).toMatchObject({ status: 'signed-in', account: 'bob@example.com', user: { sub: 'bob' } });
    expect(await store.raw.get(base)).toBe(carol);
    expect((await stored(`${base}#sub:bob`))?.sub).toBe('bob');
    expect(index().read().accounts.map((account) => [account.sub, account.entry])).toEqual([['bob', `${base}#sub:bob`]]);
  });

  it('an account whose session the provider ended stays listed, standing on nothing, until it signs in again; the other is untouched', async () => {
    await signInBoth();
    const alice = await start('alice');
    scripted.refreshes.failWith = new AuthError('session_ended', 'Your session ended at the provider. Sign in again.');
    await expect(alice.refreshAccessToken(await alice.getAccessToken())).rejects.toMatchObject({ code: 'session_ended' });
    await expect.poll(() => index().read().accounts.find((account) => account.sub === 'alice')?.standsOn).toBeUndefined();
    expect(index().read().accounts.map((account) => [account.sub, account.standsOn])).toEqual([
      ['alice', undefined],
      ['bob', 'refresh_token'],
    ]);
    expect(await store.raw.get(base)).toBeNull();
    expect((await stored(`${base}#sub:bob`))?.sub).toBe('bob');
    // Signing in again as alice renews the account where it was.
    delete scripted.refreshes.failWith;
    scripted.signsIn.user = ALICE;
    await alice.signIn();
    expect(index().read().accounts.find((account) => account.sub === 'alice')).toMatchObject({ entry: base, standsOn: 'refresh_token' });
  });

  it('an account nobody signed in is refused by name, with the ones there are', async () => {
    await signInBoth();
    const refused = await start('carol@example.com').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'account_unknown' });
    expect((refused as Error).message).toContain('alice@example.com, bob@example.com');
  });

  it('a session stored by a version from before accounts is the first account, signed in without a browser and left where it was', async () => {
    // Exactly what that version wrote: the entry under `clientId@issuer` (entry.ts, format.ts before accounts) and the profile cache beside it.
    const earlier = JSON.stringify({ v: 1, refresh_token: 'rt-alice-earlier', issuer: ISSUER, client_id: CLIENT, sub: 'alice', scope: 'openid offline_access' });
    await store.raw.set(base, earlier);
    profiles.set(base, { user: ALICE, lastSignInAt: 1 });

    const session = await start();
    expect(session.getState()).toMatchObject({ status: 'signed-in', account: 'alice@example.com', user: { sub: 'alice', email: 'alice@example.com' } });
    expect(index().read().accounts).toEqual([{ sub: 'alice', name: 'alice@example.com', user: ALICE, entry: base, standsOn: 'refresh_token' }]);
    expect(await store.raw.get(base)).toBe(earlier);
    expect(await session.getAccessToken()).toMatch(/^at-alice-/);
    expect(scripted.redeemed).toEqual(['rt-alice-earlier']);
    expect(scripted.parameters).toEqual([]);
    // And it is found by name from then on, beside an account added later.
    scripted.signsIn.user = BOB;
    await session.signIn({ adding: true });
    expect((await start('alice@example.com')).getState().user?.sub).toBe('alice');
  });
});
