// The shared access token rides in the session's keychain entry, one write with the rotated refresh
// token, where both fit in one secret (Windows Credential Manager: 2,560 bytes); a token too large for
// that goes to an entry of its own. Scripted provider and keychain: the demo's tokens are never that large.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sharedTokenAccount, MAX_SECRET_BYTES } from '../../../src/core/entry/shared-access-token.ts';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { createLogger } from '../../../src/core/log.ts';
import { createMemoryProfileCache, type ProfileCache } from '../../../src/core/entry/profile-cache.ts';
import type { ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import { createMemoryKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';
const account = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

/** Issues numbered, rotating tokens; access tokens of `size` characters. */
function scriptedProvider(size: () => number) {
  let issued = 0;
  const token = (prefix: string) => `${prefix}-${++issued}-`.padEnd(size(), 'x');
  const provider: ProviderClient = {
    issuer: ISSUER,
    metadata: {},
    signIn: async () => ({ accessToken: token('at'), refreshToken: `rt-${issued}`, expiresAt: Date.now() + 60_000, user: { sub: 'alice' } }),
    deviceSignIn: () => Promise.reject(new Error('this scripted provider offers no sign-in with a code')),
    refresh: async () => ({ accessToken: token('at'), refreshToken: `rt-${issued}`, expiresAt: Date.now() + 60_000 }),
    async revoke() {},
    endSessionUrl: () => undefined,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/callback`,
  };
  return provider;
}

describe('where the shared access token is stored (scripted provider and keychain)', () => {
  let dataDir: string;
  let config: AuthConfig;
  let profileStore: ProfileCache;
  let keychain: Keychain;
  let writes: string[];
  const sessions: AuthSession[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-shared-access-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir, usesDemoProvider: true };
    profileStore = createMemoryProfileCache();
    const inner = createMemoryKeychain();
    writes = [];
    keychain = {
      kind: 'os',
      get: (key) => inner.get(key),
      set: async (key, secret) => {
        writes.push(key);
        await inner.set(key, secret);
      },
      delete: (key) => inner.delete(key),
    };
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(provider: ProviderClient) {
    const session = await createAuthSession({ config, opener: async () => {}, keychain: keychain, profileCache: profileStore, provider, lockDir: dataDir, logger: createLogger({ level: 'silent' }) });
    sessions.push(session);
    return session;
  }

  it('a refresh whose tokens fit in one secret writes one entry, and a second process takes its access token from that entry', async () => {
    const app = await start(scriptedProvider(() => 1_000));
    await app.signIn();
    writes.length = 0;
    const renewed = await app.refreshAccessToken(await app.getAccessToken());
    await app.whenIdle();
    expect(writes).toEqual([account]);
    const entry = (await keychain.get(account))!;
    expect(Buffer.byteLength(entry)).toBeLessThanOrEqual(MAX_SECRET_BYTES);
    expect(JSON.parse(entry).access.access_token).toBe(renewed);

    const other = await start(scriptedProvider(() => 1_000));
    expect(await other.getAccessToken()).toBe(renewed);
  });

  it('an access token too large to share the secret goes to an entry of its own, after the refresh token, and other processes still use it', async () => {
    const app = await start(scriptedProvider(() => MAX_SECRET_BYTES));
    await app.signIn();
    writes.length = 0;
    const renewed = await app.refreshAccessToken(await app.getAccessToken());
    await app.whenIdle();
    // Persist first: the rotated refresh token, then the access token beside it.
    expect(writes).toEqual([account, sharedTokenAccount(account)]);
    const entry = JSON.parse((await keychain.get(account))!);
    expect(entry.access).toBe('own-entry');
    expect(Buffer.byteLength(JSON.stringify(entry))).toBeLessThanOrEqual(MAX_SECRET_BYTES);
    expect(JSON.parse((await keychain.get(sharedTokenAccount(account)))!).access_token).toBe(renewed);

    const other = await start(scriptedProvider(() => MAX_SECRET_BYTES));
    expect(await other.getAccessToken()).toBe(renewed);

    await app.signOut();
    expect(await keychain.get(account)).toBeNull();
    expect(await keychain.get(sharedTokenAccount(account))).toBeNull();
  });
});
