// The auth session end to end with the real parts: the demo provider on
// loopback, Chromium completing its sign-in form, gnome-keyring through keytar.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { createHttpClient } from '../../../src/core/net/http.ts';
import { createLogger } from '../../../src/core/log.ts';
import { connectProvider } from '../../../src/core/protocol/provider-client.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { credentialsFor, statusWithToken, storedDpopKey } from '../../helpers/api-call.ts';
import { importDpopKey, type StoredDpopKey } from '../../../src/core/dpop/key.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import { renewalTimes } from '../../../src/core/tokens/access-token.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';
import { browserOpener, DEMO_ALICE, launchBrowser, type Browser } from '../../../support/browser.ts';
import { issuedSecrets, startTestDemo } from '../../helpers/demo.ts';
import { findLeaks, readFolders } from '../../helpers/leaks.ts';

// Long enough that the renewal schedule, not a loaded machine's stalls, decides what happens: a 10 s token is handed
// out as fresh for 5.5 s, renewed in the background until 8 s (`renewalTimes`), and its JWT `exp` falls at most 1 s
// before the session's estimate (whole seconds), so a token handed out reaches the API with seconds to spare. (With
// 2 s tokens that spare time was nothing: 1 s of margin, up to 1 s of rounding, and 0.5 s before a renewal.)
const ACCESS_TOKEN_TTL_S = 10;

/** A JWT access token's `exp` (epoch seconds), as the API checks it. */
function jwtExp(token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
}

describe('auth session with the demo provider, Chromium and the OS keychain', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let dataDir: string;
  const services: string[] = [];
  const logLines: string[] = [];
  const seenSecrets = new Set<string>();
  const sessions: AuthSession[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logLines.push(line) });

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S }), launchBrowser()]);
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-session-data-'));
  });

  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    for (const service of services) await keytar.deletePassword(service, keychainAccount(configFor(service)));
    await browser?.close();
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function configFor(service: string): AuthConfig {
    return loadConfig({
      env: {
        AUTH_ISSUER: demo.issuer,
        AUTH_CLIENT_ID: DEMO_CLIENT_ID,
        AUTH_AUDIENCE: DEMO_AUDIENCE,
        API_BASE_URL: demo.apiUrl,
        AUTH_KEYCHAIN_SERVICE: service,
        AUTH_DATA_DIR: join(dataDir, service),
      },
    });
  }

  async function newSession(config: AuthConfig, opener = browserOpener(browser, DEMO_ALICE)) {
    const session = await createAuthSession({ config, opener, logger });
    sessions.push(session);
    return session;
  }

  async function storedEntry(config: AuthConfig) {
    const raw = await keytar.getPassword(config.keychainService, keychainAccount(config));
    if (raw === null) return null;
    const entry = JSON.parse(raw) as { refresh_token: string; dpop_key?: StoredDpopKey };
    seenSecrets.add(entry.refresh_token);
    return entry;
  }

  async function signedInSession() {
    const service = `latchkey-test-session-${randomUUID()}`;
    services.push(service);
    const config = configFor(service);
    const session = await newSession(config);
    await session.signIn({ timeoutMs: 30_000 });
    return { config, session };
  }

  /** The API's answer to `token`, sent as its holder would (a proof with the session's stored key when it is DPoP-bound). */
  async function callApi(token: string, config: AuthConfig = shared.config) {
    seenSecrets.add(token);
    return statusWithToken(`${demo.apiUrl}/me`, token, { service: config.keychainService, account: keychainAccount(config) });
  }

  /** Until `token` has expired by its own `exp`, as the API sees it. */
  const expiry = (token: string) => new Promise((resolve) => setTimeout(resolve, Math.max(0, jwtExp(token) * 1000 - Date.now()) + 100));

  let shared: { config: AuthConfig; session: AuthSession };

  it('signs in through the browser and keeps only the refresh token and what it needs in the keychain', async () => {
    shared = await signedInSession();
    const { config, session } = shared;
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os', user: { name: 'Alice Liddell', email: 'alice@example.com' } });
    const entry = await storedEntry(config);
    // The access token every process shares rides in the same entry (one keychain write); no ID token, no profile.
    // It names its user and the entry generation it was stored at: no other user's or older session's token is handed out.
    const access = { v: 1, access_token: expect.any(String), refreshed_at: expect.any(Number), expires_at: expect.any(Number), sub: session.getState().user!.sub, generation: expect.any(String), issuer: config.issuer, client_id: DEMO_CLIENT_ID, scope: config.scope, audience: config.audience, token_type: 'dpop', jkt: expect.any(String) };
    // The demo offers DPoP, so under `auto` the session's private key is stored with its refresh token.
    const dpop_key = { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), d: expect.any(String), jkt: access.jkt };
    expect(entry).toEqual({ v: 1, refresh_token: expect.any(String), issuer: config.issuer, client_id: DEMO_CLIENT_ID, sub: session.getState().user!.sub, scope: expect.stringContaining('offline_access'), access, dpop_key });
    expect(await callApi(await session.getAccessToken())).toBe(200);
  });

  it('restores the session in a new session object (a restart) with the cached profile and no network until needed', async () => {
    // A renewal the first session started behind its last token (a slow machine can reach its renewal time) has stored its token.
    await shared.session.whenIdle();
    const before = demo.stats.tokenRequests;
    const restarted = await newSession(shared.config);
    expect(restarted.getState()).toMatchObject({ status: 'signed-in', user: { name: 'Alice Liddell' } });
    expect(demo.stats.tokenRequests).toBe(before);
    // The access token the first session shares through the keychain: handed out as it is, with no token request
    // while it is fresh. (Only if this machine took so long that it was already due for renewal, by its own times,
    // may one renewal have started behind it.)
    const { access } = (await storedEntry(shared.config)) as unknown as { access: { access_token: string; refreshed_at: number; expires_at: number } };
    const token = await restarted.getAccessToken();
    const handedAt = Date.now();
    expect(token).toBe(access.access_token);
    expect(await callApi(token)).toBe(200);
    if (handedAt < renewalTimes(access.refreshed_at, access.expires_at).refreshAt) expect(demo.stats.tokenRequests).toBe(before);
    else expect(demo.stats.tokenRequests).toBeLessThanOrEqual(before + 1);
    shared.session = restarted;
  });

  it('refreshes an expired access token and stores the rotated refresh token in the keychain', async () => {
    const { config, session } = shared;
    const first = await session.getAccessToken();
    const storedBefore = (await storedEntry(config))!.refresh_token;
    await expiry(first);
    const second = await session.getAccessToken();
    expect(second).not.toBe(first);
    expect(await callApi(second)).toBe(200);
    await session.refreshAccessToken(second); // let the flight finish storing
    const storedAfter = (await storedEntry(config))!.refresh_token;
    expect(storedAfter).not.toBe(storedBefore);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('100 concurrent callers after expiry cause exactly one token request', async () => {
    const { session } = shared;
    const rejected = await session.getAccessToken();
    await expiry(rejected);
    const before = demo.stats.tokenRequests;
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? session.getAccessToken() : session.refreshAccessToken(rejected))),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(demo.stats.tokenRequests).toBe(before + 1);
    expect(await callApi(tokens[0]!)).toBe(200);
  });

  it('an app calling the API every 100 ms never sees a 401: tokens are renewed ahead of expiry, one request each', async () => {
    const { config, session } = shared;
    // The key the tokens are bound to, read once: no keychain round trip between taking a token and sending it.
    const key = await storedDpopKey(config.keychainService, keychainAccount(config));
    const url = `${demo.apiUrl}/me`;
    const before = demo.stats.tokenRequests;
    const calls: { token: string; status: number; handedAt: number }[] = [];
    const until = Date.now() + 2.5 * ACCESS_TOKEN_TTL_S * 1000;
    while (Date.now() < until) {
      const token = await session.getAccessToken();
      const handedAt = Date.now();
      seenSecrets.add(token);
      const { status } = await fetch(url, { headers: await credentialsFor(token, url, key) });
      calls.push({ token, status, handedAt });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await session.whenIdle();
    // Each answer other than 200, with how long its token had left by its own `exp` when handed out (for the message).
    expect(calls.filter((call) => call.status !== 200).map(({ status, token, handedAt }) => ({ status, msLeft: jwtExp(token) * 1000 - handedAt }))).toEqual([]);
    // Renewed more than once while the app kept calling: 2.5 lifetimes hold at least two renewals (each 5.5–8 s into a token's life).
    const tokens = [...new Set(calls.map((call) => call.token))];
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    // Each token was replaced before it expired: its successor was in hand ahead of its `exp`.
    for (let i = 1; i < tokens.length; i++) {
      expect(calls.find((call) => call.token === tokens[i])!.handedAt).toBeLessThan(jwtExp(tokens[i - 1]!) * 1000);
    }
    // One token request per renewal, not one per call: each new token came from one request, and at most one more
    // was made (started by a late call) whose token the run ended before using.
    const refreshes = demo.stats.tokenRequests - before;
    expect(refreshes).toBeGreaterThanOrEqual(tokens.length - 1);
    expect(refreshes).toBeLessThanOrEqual(tokens.length);
  });

  it('a 401 for a token that was already replaced does not refresh again', async () => {
    const { session } = shared;
    const old = await session.getAccessToken();
    const fresh = await session.refreshAccessToken(old);
    const before = demo.stats.tokenRequests;
    expect(await session.refreshAccessToken(old)).toBe(fresh);
    expect(demo.stats.tokenRequests).toBe(before);
  });

  it('provider answering 503 or HTML keeps the refresh token, goes offline, and recovers when it is back', async () => {
    const { config, session } = shared;
    // The last test's refresh-ahead may still be storing its rotated token: read the entry once it has.
    await session.whenIdle();
    const stored = (await storedEntry(config))!.refresh_token;
    demo.failTokenEndpoint('unavailable');
    const current = await session.getAccessToken();
    await expect(session.refreshAccessToken(current)).rejects.toMatchObject({ code: 'provider_unreachable' });
    expect(session.getState()).toMatchObject({ status: 'offline', error: { code: 'provider_unreachable' }, user: { name: 'Alice Liddell' } });
    expect((await storedEntry(config))!.refresh_token).toBe(stored);

    demo.failTokenEndpoint('html');
    const before = demo.stats.tokenRequests;
    await session.retryNow();
    expect(demo.stats.tokenRequests).toBe(before + 1);
    expect(session.getState()).toMatchObject({ status: 'offline', error: { code: 'provider_unreachable', message: expect.stringMatching(/not JSON/) } });
    expect((await storedEntry(config))!.refresh_token).toBe(stored);

    demo.failTokenEndpoint(null);
    await session.retryNow();
    expect(session.getState().status).toBe('signed-in');
    expect(session.getState().error).toBeUndefined();
    expect(await callApi(await session.getAccessToken())).toBe(200);
  });

  it('a refresh token revoked behind the session’s back ends the session and deletes the entry', async () => {
    const { config, session } = await signedInSession();
    const http = createHttpClient();
    try {
      await (await connectProvider(config, { http })).revoke((await storedEntry(config))!.refresh_token);
    } finally {
      await http.close();
    }
    const current = await session.getAccessToken();
    await expect(session.refreshAccessToken(current)).rejects.toMatchObject({ code: 'session_ended' });
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'session_ended', message: expect.stringMatching(/^Your session ended at the provider: it refused the refresh \(invalid_grant.*\)\. Sign in again\.$/) } });
    expect(await storedEntry(config)).toBeNull();
    expect((await newSession(config)).getState().status).toBe('signed-out');
  });

  it('logout revokes at the provider, which then refuses the old refresh token, and forgets everything local', async () => {
    const { config, session } = await signedInSession();
    const { refresh_token: refreshToken, dpop_key: key } = (await storedEntry(config))!;
    const { endSessionUrl } = await session.signOut();
    expect(new URL(endSessionUrl as string).searchParams.get('client_id')).toBe(config.clientId);
    expect(endSessionUrl).not.toMatch(/id_token_hint=/);
    expect(session.getState().status).toBe('signed-out');
    expect(await storedEntry(config)).toBeNull();
    const http = createHttpClient();
    try {
      const provider = await connectProvider(config, { http });
      // Refused even to the holder of its DPoP key: revoked, not merely bound.
      await expect(provider.refresh(refreshToken, key ? { dpop: await importDpopKey(key) } : {})).rejects.toMatchObject({ code: 'session_ended' });
    } finally {
      await http.close();
    }
    expect((await newSession(config)).getState()).toMatchObject({ status: 'signed-out' });
  });

  it('no token the provider issued appears in the data folder or in the logs', async () => {
    for (const session of sessions) {
      const state = session.getState();
      if (state.status === 'signed-in') seenSecrets.add(await session.getAccessToken());
    }
    // A token handed out near its renewal time starts a background refresh: let every one store its rotated token first.
    await Promise.all(sessions.map((session) => session.whenIdle()));
    expect(seenSecrets.size).toBeGreaterThan(5);
    expect(issuedSecrets().size).toBeGreaterThan(5);
    const places = [...(await readFolders(dataDir)), { name: 'the logs', text: logLines.join('\n') }];
    expect(places.some((place) => place.name.endsWith('profile.json'))).toBe(true);
    // Idle: no refresh holds a lock, so the folder scanned is the one the sessions leave behind.
    expect(places.map((place) => place.name).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(logLines.join('\n')).toMatch(/access token refreshed/);
    expect(findLeaks([...seenSecrets, ...issuedSecrets()], places)).toEqual([]);
  });
});
