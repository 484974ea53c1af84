// DPoP-bound sessions (RFC 9449) end to end with the real parts: the demo provider (a stock
// oidc-provider with its DPoP feature) and the demo API on loopback, Chromium completing the
// sign-in form, gnome-keyring through keytar.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { createDpopKey, importDpopKey, type StoredDpopKey } from '../../../src/core/dpop/key.ts';
import { createDpopProof } from '../../../src/core/dpop/proof.ts';
import { createLogger } from '../../../src/core/log.ts';
import type { Opener } from '../../../src/core/protocol/flow-context.ts';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { createAuthSession } from '../../../src/core/session/start.ts';
import { type AuthSession } from '../../../src/core/session/auth-session.ts';
import { apiFetch } from '../../../src/renderer/api-fetch.ts';
import { browserOpener, DEMO_ALICE, launchBrowser, type Browser } from '../../../support/browser.ts';

import { issuedSecrets, startTestDemo } from '../../helpers/demo.ts';
import { entrySecrets, findLeaks, readFolders } from '../../helpers/leaks.ts';

const ACCESS_TOKEN_TTL_S = 30;

type Demo = Awaited<ReturnType<typeof startTestDemo>>;

describe('DPoP-bound sessions with the demo provider, Chromium and the OS keychain', () => {
  let demo: Demo;
  let browser: Browser;
  let dataDir: string;
  const services: string[] = [];
  const configs: AuthConfig[] = [];
  const logLines: string[] = [];
  const secrets = new Set<string>();
  const sessions: AuthSession[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => logLines.push(line) });

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S }), launchBrowser()]);
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-dpop-data-'));
  });

  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    await Promise.all(transports.map((transport) => transport.close()));
    for (const config of configs) await keytar.deletePassword(config.keychainService, keychainAccount(config)).catch(() => false);
    await browser?.close();
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function configFor(target: Pick<Demo, 'issuer' | 'apiUrl'>, extra: Record<string, string> = {}): AuthConfig {
    const service = `latchkey-test-dpop-${randomUUID()}`;
    services.push(service);
    const config = loadConfig({
      env: {
        AUTH_ISSUER: target.issuer,
        AUTH_CLIENT_ID: DEMO_CLIENT_ID,
        AUTH_AUDIENCE: DEMO_AUDIENCE,
        API_BASE_URL: target.apiUrl,
        AUTH_KEYCHAIN_SERVICE: service,
        AUTH_DATA_DIR: join(dataDir, service),
        ...extra,
      },
    });
    configs.push(config);
    return config;
  }

  /** Every request the core sent to the provider: path, and the DPoP proof's claims when one came with it. */
  const providerRequests: { path: string; proof?: { htm?: string; htu?: string; jwk?: unknown } }[] = [];
  const transports: HttpClient[] = [];
  function recordingHttp(): HttpClient {
    const real = createHttpClient();
    transports.push(real);
    const recorded = (async (input: string | URL, init?: RequestInit) => {
      const proof = new Headers(init?.headers).get('dpop');
      providerRequests.push({ path: new URL(String(input)).pathname, ...(proof ? { proof: { ...decodeJwt(proof), jwk: decodeProtectedHeader(proof).jwk } } : {}) });
      return real.fetch(input, init);
    }) as typeof fetch;
    return { ...real, fetch: recorded };
  }

  async function newSession(config: AuthConfig, opener: Opener = browserOpener(browser, DEMO_ALICE), http?: HttpClient) {
    const session = await createAuthSession({ config, opener, logger, ...(http ? { http } : {}) });
    sessions.push(session);
    return session;
  }

  async function storedEntry(config: AuthConfig): Promise<{ refresh_token: string; dpop_key?: StoredDpopKey } | null> {
    const raw = await keytar.getPassword(config.keychainService, keychainAccount(config));
    for (const secret of entrySecrets(raw)) secrets.add(secret);
    return raw === null ? null : JSON.parse(raw);
  }

  /** The thumbprint of the stored key, computed by jose (not by the code under test). */
  async function storedThumbprint(config: AuthConfig): Promise<string> {
    const key = (await storedEntry(config))?.dpop_key;
    if (!key) throw new Error('no DPoP key is stored with the session');
    return calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });
  }

  const boundTo = (accessToken: string) => {
    secrets.add(accessToken);
    return (decodeJwt(accessToken).cnf as { jkt?: string } | undefined)?.jkt;
  };

  async function callApi(session: AuthSession, target: Pick<Demo, 'apiUrl'> = demo) {
    const url = `${target.apiUrl}/me`;
    const headers = await session.requestHeaders({ method: 'GET', url });
    secrets.add(headers.Authorization.replace(/^\S+ /, ''));
    return fetch(url, { headers: { ...headers } });
  }

  /** The token endpoint's raw answer to a refresh_token grant, sent by someone holding only what is given. */
  async function redeemDirectly(config: AuthConfig, refreshToken: string, key?: StoredDpopKey) {
    const tokenEndpoint = `${demo.issuer}/token`;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (key) headers.dpop = await createDpopProof(await importDpopKey(key), { method: 'POST', url: tokenEndpoint });
    const response = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: config.clientId }) });
    return { status: response.status, body: (await response.json()) as { error?: string; error_description?: string } };
  }

  let shared: { config: AuthConfig; session: AuthSession };

  it('under auto, a sign-in and a refresh give tokens bound to the key stored with the session (cnf.jkt = its thumbprint)', async () => {
    const config = configFor(demo);
    const opener = browserOpener(browser, DEMO_ALICE);
    const http = recordingHttp();
    const session = await newSession(config, opener, http);
    await session.signIn({ timeoutMs: 30_000 });
    shared = { config, session };
    const thumbprint = await storedThumbprint(config);
    // RFC 9449 §10: the authorization request names the key, so the code itself is bound.
    expect(new URL(opener.urls.at(-1) as string).searchParams.get('dpop_jkt')).toBe(thumbprint);
    await opener.close();
    const first = await session.getAccessToken();
    expect(boundTo(first)).toBe(thumbprint);
    expect(session.getState().accessToken?.dpop).toBe(true);
    const refreshed = await session.refreshAccessToken(first);
    expect(refreshed).not.toBe(first);
    expect(boundTo(refreshed)).toBe(thumbprint);
    expect(await storedThumbprint(config)).toBe(thumbprint);
    const answer = await callApi(session);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { claims: { cnf?: { jkt?: string } } }).claims.cnf?.jkt).toBe(thumbprint);
    // The code exchange and the refresh each carried a proof for the token endpoint, signed with the stored key.
    const tokenProofs = providerRequests.filter((request) => request.path === '/token').map((request) => request.proof);
    expect(tokenProofs).toHaveLength(2);
    for (const proof of tokenProofs) {
      expect(proof).toMatchObject({ htm: 'POST', htu: `${demo.issuer}/token` });
      expect(await calculateJwkThumbprint(proof!.jwk as Parameters<typeof calculateJwkThumbprint>[0])).toBe(thumbprint);
    }
  });

  it('requestHeaders gives a DPoP proof for one call; the API refuses that proof replayed, and the bound token sent as Bearer', async () => {
    const url = `${demo.apiUrl}/me`;
    const headers = await shared.session.requestHeaders({ method: 'GET', url });
    expect(headers.Authorization).toMatch(/^DPoP /);
    expect(headers.DPoP).toMatch(/^eyJ/);
    secrets.add(headers.Authorization.slice(5));
    expect((await fetch(url, { headers: { ...headers } })).status).toBe(200);
    const replayed = await fetch(url, { headers: { ...headers } });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]*replay/);
    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${headers.Authorization.slice(5)}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/DPoP-bound/);
    // A proof for another URL, or made with another key, does not pass either.
    const otherKey = await createDpopKey();
    const forged = { authorization: headers.Authorization, dpop: await createDpopProof(otherKey, { method: 'GET', url, accessToken: headers.Authorization.slice(5) }) };
    expect((await fetch(url, { headers: forged })).status).toBe(401);
    await expect(shared.session.requestHeaders({ method: 'GET', url: `${demo.issuer}/me` })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('the API checks every part of a proof made with the right key: method, URL, token hash, age; and refuses a proof carrying the private key', async () => {
    const url = `${demo.apiUrl}/me`;
    const stored = (await storedEntry(shared.config))!.dpop_key!;
    const key = await importDpopKey(stored);
    const token = await shared.session.getAccessToken();
    secrets.add(token);
    const send = async (proof: string) => {
      const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
      return `${response.status} ${response.headers.get('www-authenticate') ?? ''}`;
    };
    expect(await send(await createDpopProof(key, { method: 'GET', url, accessToken: token }))).toMatch(/^200/);
    expect(await send(await createDpopProof(key, { method: 'POST', url, accessToken: token }))).toMatch(/^401 .*\(htm\)/);
    expect(await send(await createDpopProof(key, { method: 'GET', url: `${demo.apiUrl}/other`, accessToken: token }))).toMatch(/^401 .*\(htu\)/);
    expect(await send(await createDpopProof(key, { method: 'GET', url, accessToken: `${token}x` }))).toMatch(/^401 .*\(ath\)/);
    expect(await send(await createDpopProof(key, { method: 'GET', url }))).toMatch(/^401 .*\(ath\)/);
    expect(await send(await createDpopProof(key, { method: 'GET', url, accessToken: token }, Date.now() - 5 * 60_000))).toMatch(/^401 .*\(iat\)/);
    const ath = createHash('sha256').update(token).digest('base64url');
    const leaky = await new SignJWT({ htm: 'GET', htu: url, ath, jti: randomUUID() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: { ...stored } })
      .setIssuedAt()
      .sign(await importJWK(stored, 'ES256'));
    // (jose refuses a private key in the header before the API looks at it.)
    expect(await send(leaky)).toMatch(/^401 DPoP error="invalid_dpop_proof"/);
  });

  it('the stored refresh token, redeemed without the key or with another key, is refused by the provider; the session still works', async () => {
    const { config, session } = shared;
    const stolen = (await storedEntry(config))!.refresh_token;
    const withoutKey = await redeemDirectly(config, stolen);
    expect(withoutKey).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const otherKey = (await createDpopKey()).toStored();
    const withAnotherKey = await redeemDirectly(config, stolen, otherKey);
    expect(withAnotherKey).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Nothing was spent: the holder of the key refreshes as before, and the provider saw no reuse.
    const current = await session.getAccessToken();
    expect(boundTo(await session.refreshAccessToken(current))).toBe(await storedThumbprint(config));
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('a restart keeps the key and the session: the new session object refreshes with the same key', async () => {
    const { config } = shared;
    const thumbprint = await storedThumbprint(config);
    await shared.session.close();
    const restarted = await newSession(config, undefined, recordingHttp());
    expect(restarted.getState()).toMatchObject({ status: 'signed-in' });
    expect((await callApi(restarted)).status).toBe(200);
    const refreshed = await restarted.refreshAccessToken(await restarted.getAccessToken());
    expect(boundTo(refreshed)).toBe(thumbprint);
    expect((await callApi(restarted)).status).toBe(200);
    shared.session = restarted;
  });

  it('two sessions sharing the keychain entry (as two processes do) share one bound session without reuse', async () => {
    const { config } = shared;
    const thumbprint = await storedThumbprint(config);
    const other = await newSession(config);
    const tokens: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      const [a, b] = await Promise.all([shared.session, other].map(async (session) => session.refreshAccessToken(await session.getAccessToken())));
      tokens.push(a!, b!);
    }
    for (const token of tokens) expect(boundTo(token)).toBe(thumbprint);
    expect((await callApi(other)).status).toBe(200);
    expect((await callApi(shared.session)).status).toBe(200);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('a new sign-in makes a new key; logout deletes it with the session, and the revoked token is refused even with the old key', async () => {
    const { config, session } = shared;
    const before = (await storedEntry(config))!.dpop_key!;
    await session.signIn({ timeoutMs: 30_000 });
    const after = (await storedEntry(config))!;
    expect(after.dpop_key!.x).not.toBe(before.x);
    expect(boundTo(await session.getAccessToken())).toBe(await storedThumbprint(config));
    const revocationsBefore = providerRequests.filter((request) => request.path === '/token/revocation').length;
    await session.signOut();
    expect(await keytar.getPassword(config.keychainService, keychainAccount(config))).toBeNull();
    // The revocation carried a proof with the session's key too.
    const revocations = providerRequests.filter((request) => request.path === '/token/revocation').slice(revocationsBefore);
    expect(revocations.length).toBeGreaterThanOrEqual(1);
    for (const { proof } of revocations) expect(proof).toMatchObject({ htm: 'POST', htu: `${demo.issuer}/token/revocation` });
    expect(await redeemDirectly(config, after.refresh_token, after.dpop_key)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a provider without DPoP: under auto a bearer session as before, under required a refusal that says why before any browser opens', async () => {
    const plain = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dpop: 'off' });
    try {
      const auto = configFor(plain);
      const session = await newSession(auto);
      await session.signIn({ timeoutMs: 30_000 });
      const entry = await storedEntry(auto);
      expect(entry).not.toHaveProperty('dpop_key');
      const headers = await session.requestHeaders({ method: 'GET', url: `${plain.apiUrl}/me` });
      expect(Object.keys(headers)).toEqual(['Authorization']);
      expect(headers.Authorization).toMatch(/^Bearer /);
      expect(boundTo(headers.Authorization.slice(7))).toBeUndefined();
      expect((await fetch(`${plain.apiUrl}/me`, { headers: { ...headers } })).status).toBe(200);
      await session.signOut();

      const opened: string[] = [];
      const required = await newSession(configFor(plain, { AUTH_DPOP: 'required' }), async (url) => void opened.push(url));
      await expect(required.signIn({ timeoutMs: 30_000 })).rejects.toMatchObject({
        code: 'provider_error',
        message: expect.stringMatching(/^DPoP is required \(AUTH_DPOP=required\) but the provider at .* cannot bind tokens: its metadata does not list dpop_signing_alg_values_supported/),
      });
      expect(opened).toEqual([]);
      expect(required.getState()).toMatchObject({ status: 'signed-out', error: { code: 'provider_error' } });
    } finally {
      await plain.close();
    }
  });

  it('with nonces demanded (provider and API): sign-in, refresh and apiFetch answer use_dpop_nonce once each and succeed', async () => {
    const strict = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dpop: 'nonce' });
    try {
      const config = configFor(strict);
      const session = await newSession(config);
      await session.signIn({ timeoutMs: 30_000 });
      const thumbprint = await storedThumbprint(config);
      expect(boundTo(await session.refreshAccessToken(await session.getAccessToken()))).toBe(thumbprint);
      // The renderer's path, over the real API: the first call is refused for want of a nonce, the second carries it.
      const seen: number[] = [];
      const auth = { requestHeaders: session.requestHeaders, refreshAccessToken: session.refreshAccessToken, stepUp: async () => session.getState() };
      const counting: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        seen.push(response.status);
        return response;
      };
      const response = await apiFetch(auth, counting, `${strict.apiUrl}/me`);
      expect(response.status).toBe(200);
      expect(seen).toEqual([401, 200]);
      // The nonce is remembered for the API's origin: the next call needs one request.
      expect((await apiFetch(auth, counting, `${strict.apiUrl}/me`)).status).toBe(200);
      expect(seen).toEqual([401, 200, 200]);
      await session.signOut();
    } finally {
      await strict.close();
    }
  });

  it('no token or private key appears in the data folder or in the logs', async () => {
    await Promise.all(sessions.map((session) => session.whenIdle()));
    const places = [...(await readFolders(dataDir)), { name: 'the logs', text: logLines.join('\n') }];
    expect(logLines.join('\n')).toMatch(/access token refreshed/);
    expect(findLeaks([...secrets, ...issuedSecrets()], places)).toEqual([]);
  });
});
