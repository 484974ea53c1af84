import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeJwt, generateKeyPair, importJWK, jwtVerify, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { APP_ORIGIN, DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../src/shared/constants.ts';
import { browserOpener, launchBrowser, DEMO_ALICE } from '../../support/browser.ts';
import type { Browser, BrowserUser } from '../../support/browser.ts';
import { portOf, startTestDemo } from '../helpers/demo.ts';

type TestDemo = Awaited<ReturnType<typeof startTestDemo>>;

/** A stand-in for the app's loopback redirect listener (RFC 8252 §7.3). */
async function startCallbackListener(): Promise<{ redirectUri: string; hits: string[]; next: Promise<URL>; close(): Promise<void> }> {
  const hits: string[] = [];
  let resolveNext!: (url: URL) => void;
  const next = new Promise<URL>((resolve) => { resolveNext = resolve; });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    hits.push(url.href);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('You can close this tab.');
    if (url.pathname === '/callback') resolveNext(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    hits,
    next,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

async function discover(demo: TestDemo): Promise<client.Configuration> {
  return client.discovery(new URL(demo.issuer), DEMO_CLIENT_ID, undefined, client.None(), { execute: [client.allowInsecureRequests] });
}

/** `prompt: 'consent'` unless told otherwise: OpenID Connect Core §11 asks for it with offline_access. */
async function beginSignIn(config: client.Configuration, redirectUri: string, prompt: string | undefined = 'consent') {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    audience: DEMO_AUDIENCE,
    ...(prompt ? { prompt } : {}),
  });
  return { url, verifier, state };
}

/** The whole interactive sign-in through Chromium, then the code exchange. */
async function signIn(browser: Browser, demo: TestDemo, user: BrowserUser = DEMO_ALICE, prompt?: string) {
  const config = await discover(demo);
  const callback = await startCallbackListener();
  const opener = browserOpener(browser, user);
  try {
    const { url, verifier, state } = await beginSignIn(config, callback.redirectUri, prompt);
    await opener(url.href);
    const callbackUrl = await Promise.race([
      callback.next,
      opener.done.then(() => new Promise<never>((_, reject) => setTimeout(() => reject(opener.lastError ?? new Error('no callback')), 2_000))),
    ]);
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: verifier, expectedState: state });
    return { config, tokens, callbackUrl };
  } finally {
    await opener.done;
    await opener.close();
    await callback.close();
  }
}

async function oauthError(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { error?: string }).error ?? (error as Error).message;
  }
  return 'no error';
}

async function getMe(demo: TestDemo, token?: string) {
  const response = await fetch(`${demo.apiUrl}/me`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() as Record<string, unknown> };
}

async function providerSigningKey(demo: TestDemo) {
  const saved = JSON.parse(await readFile(join(demo.dataDir, 'keys.json'), 'utf8')) as { jwks: { keys: (JWK & { kid: string })[] } };
  const jwk = saved.jwks.keys[0]!;
  return { key: await importJWK(jwk, 'RS256'), kid: jwk.kid };
}

function accessTokenClaims(demo: TestDemo, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: demo.issuer, aud: DEMO_AUDIENCE, sub: 'alice', client_id: DEMO_CLIENT_ID, iat: now, exp: now + 60, jti: 'test', ...overrides };
}

describe('demo provider and API', () => {
  let browser: Browser;
  let demo: TestDemo;

  beforeAll(async () => {
    [browser, demo] = await Promise.all([launchBrowser(), startTestDemo()]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), demo?.close()]);
  });

  it('a browser sign-in through the real form yields an ID token, a JWT access token for the API and a refresh token', async () => {
    const { config, tokens, callbackUrl } = await signIn(browser, demo);

    expect(callbackUrl.searchParams.get('iss')).toBe(demo.issuer);
    expect(config.serverMetadata().authorization_response_iss_parameter_supported).toBe(true);

    const idClaims = tokens.claims();
    expect(idClaims).toMatchObject({ iss: demo.issuer, aud: DEMO_CLIENT_ID, sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com' });
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));

    const jwks = createRemoteJWKSet(new URL(`${demo.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: demo.issuer, audience: DEMO_AUDIENCE });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload.sub).toBe('alice');
    expect(payload.exp! - payload.iat!).toBe(60);

    const me = await getMe(demo, tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ sub: 'alice', claims: { aud: DEMO_AUDIENCE, iss: demo.issuer } });
  });

  it('like any stock oidc-provider, it drops offline_access — no refresh token — when the request has no prompt=consent', async () => {
    const { tokens } = await signIn(browser, demo, DEMO_ALICE, '');
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
  });

  it('a wrong password is refused with a message and never reaches the app', async () => {
    const config = await discover(demo);
    const callback = await startCallbackListener();
    const opener = browserOpener(browser, { login: 'alice', password: 'not-her-password' });
    try {
      const { url } = await beginSignIn(config, callback.redirectUri);
      await opener(url.href);
      await opener.done;
      expect(opener.lastError?.message).toMatch(/Wrong username or password/);
      await expect(opener.lastPage!.locator('[role=alert]')).toBeDefined();
      expect(await opener.lastPage!.locator('[role=alert]').textContent()).toMatch(/Wrong username or password/);
      expect(new URL(opener.lastPage!.url()).origin).toBe(demo.issuer);
      expect(callback.hits).toEqual([]);

      await opener.lastPage!.click('button:has-text("Cancel")');
      expect((await callback.next).searchParams.get('error')).toBe('access_denied');
    } finally {
      await opener.close();
      await callback.close();
    }
  });

  it('the sign-in form only works with its own interaction cookie and from its own origin', async () => {
    const config = await discover(demo);
    const { url } = await beginSignIn(config, 'http://127.0.0.1:9/callback');
    const started = await fetch(url, { redirect: 'manual' });
    const interaction = new URL(started.headers.get('location')!, demo.issuer);
    const cookies = started.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
    expect(interaction.pathname).toMatch(/^\/interaction\/[\w-]+$/);
    const login = new URLSearchParams({ login: 'alice', password: 'wonderland' });
    const post = (headers: Record<string, string>) => fetch(`${interaction.href}/login`, {
      method: 'POST', redirect: 'manual', body: login, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    });

    const withoutCookie = await post({ Origin: demo.issuer });
    expect(withoutCookie.status).toBe(400);
    expect(withoutCookie.headers.get('location')).toBeNull();

    const crossSite = await post({ Cookie: cookies, Origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);

    const genuine = await post({ Cookie: cookies, Origin: demo.issuer });
    expect(genuine.status).toBe(303);
    expect(new URL(genuine.headers.get('location')!).pathname).toMatch(/^\/auth\//);
  });

  it('denying consent sends access_denied back to the app', async () => {
    const config = await discover(demo);
    const callback = await startCallbackListener();
    const opener = browserOpener(browser, { ...DEMO_ALICE, consent: 'deny' });
    try {
      const { url } = await beginSignIn(config, callback.redirectUri);
      await opener(url.href);
      const callbackUrl = await callback.next;
      expect(callbackUrl.searchParams.get('error')).toBe('access_denied');
      expect(callbackUrl.searchParams.get('code')).toBeNull();
    } finally {
      await opener.done;
      await opener.close();
      await callback.close();
    }
  });

  it('the sign-in and consent pages work from the keyboard alone and show request values as text', async () => {
    const config = await discover(demo);
    const callback = await startCallbackListener();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const hinted = (await beginSignIn(config, callback.redirectUri)).url;
      hinted.searchParams.set('login_hint', '<b id="injected">x');
      await page.goto(hinted.href);
      expect(await page.locator('#injected').count()).toBe(0);
      expect(await page.inputValue('input[name=login]')).toBe('<b id="injected">x');

      const { url, verifier, state } = await beginSignIn(config, callback.redirectUri);
      await page.goto(url.href);
      const focused = (selector: string) => () => page.locator(`${selector}:focus`).count();
      await expect.poll(focused('input[name=login]')).toBe(1);
      await page.keyboard.type('alice');
      await page.keyboard.press('Tab');
      await page.keyboard.type('wonderland');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      expect(await page.locator('li', { hasText: 'offline_access' }).count()).toBe(1);
      expect(await page.locator('li', { hasText: DEMO_AUDIENCE }).count()).toBe(1);
      await expect.poll(focused('button[name=consent][value=allow]')).toBe(1);
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      const tokens = await client.authorizationCodeGrant(config, await callback.next, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.claims()?.sub).toBe('alice');
    } finally {
      await context.close();
      await callback.close();
    }
  });

  it('RP-initiated logout ends the browser session at the provider', async () => {
    const config = await discover(demo);
    const callback = await startCallbackListener();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const first = await beginSignIn(config, callback.redirectUri);
      await page.goto(first.url.href);
      await page.fill('input[name=login]', 'bob');
      await page.fill('input[name=password]', 'builder');
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await Promise.all([page.waitForNavigation(), page.click('button[name=consent][value=allow]')]);
      const tokens = await client.authorizationCodeGrant(config, await callback.next, { pkceCodeVerifier: first.verifier, expectedState: first.state });

      // Signed in at the provider: a second request goes straight to consent.
      await page.goto((await beginSignIn(config, callback.redirectUri)).url.href);
      expect(await page.locator('button[name=consent]').count()).toBe(2);
      expect(await page.locator('input[name=password]').count()).toBe(0);

      await page.goto(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! }).href);
      await Promise.all([page.waitForNavigation(), page.click('button[name=logout][value=yes]')]);
      expect(await page.locator('h1').textContent()).toBe('Signed out');

      await page.goto((await beginSignIn(config, callback.redirectUri)).url.href);
      expect(await page.locator('input[name=password]').count()).toBe(1);
    } finally {
      await context.close();
      await callback.close();
    }
  });

  it('the refresh token rotates, and reusing the old one fails and ends the new one too', async () => {
    const { config, tokens } = await signIn(browser, demo);
    const first = tokens.refresh_token!;
    const reuseBefore = demo.stats.reuseDetected;
    const refreshesBefore = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;

    const refreshed = await client.refreshTokenGrant(config, first);
    const second = refreshed.refresh_token!;
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    expect(decodeJwt(refreshed.access_token).aud).toBe(DEMO_AUDIENCE);

    expect(await oauthError(client.refreshTokenGrant(config, first))).toBe('invalid_grant');
    expect(demo.stats.reuseDetected).toBe(reuseBefore + 1);
    expect(await oauthError(client.refreshTokenGrant(config, second))).toBe('invalid_grant');
    expect(demo.stats.tokenRequestsByGrant.refresh_token).toBe(refreshesBefore + 3);
  });

  it('a revoked refresh token no longer refreshes', async () => {
    const { config, tokens } = await signIn(browser, demo);
    await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await oauthError(client.refreshTokenGrant(config, tokens.refresh_token!))).toBe('invalid_grant');
  });

  it('the API answers 401 with a Bearer challenge to missing, expired and forged tokens', async () => {
    const missing = await getMe(demo);
    expect(missing.status).toBe(401);
    expect(missing.challenge).toBe('Bearer realm="latchkey-demo", DPoP realm="latchkey-demo", algs="ES256 EdDSA"');

    const { key, kid } = await providerSigningKey(demo);
    const past = Math.floor(Date.now() / 1000) - 120;
    const expired = await new SignJWT(accessTokenClaims(demo, { iat: past - 60, exp: past }))
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(key);
    const expiredAnswer = await getMe(demo, expired);
    expect(expiredAnswer.status).toBe(401);
    expect(expiredAnswer.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]*expired[^"]*"$/);
    expect(expiredAnswer.body.error).toBe('invalid_token');

    // The same token, unexpired, is accepted: so the 401s above are about expiry and the signature.
    const valid = await new SignJWT(accessTokenClaims(demo)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(key);
    expect((await getMe(demo, valid)).status).toBe(200);

    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(accessTokenClaims(demo)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(otherKey);
    const forgedAnswer = await getMe(demo, forged);
    expect(forgedAnswer.status).toBe(401);
    expect(forgedAnswer.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]*signature[^"]*"$/);

    const wrongAudience = await new SignJWT(accessTokenClaims(demo, { aud: 'urn:other' })).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid }).sign(key);
    expect((await getMe(demo, wrongAudience)).status).toBe(401);
  });

  it('the API accepts a real access token until it expires, then answers 401 invalid_token', async () => {
    const shortLived = await startTestDemo({ accessTokenTtl: 3 });
    try {
      const { tokens } = await signIn(browser, shortLived);
      expect((await getMe(shortLived, tokens.access_token)).status).toBe(200);
      const expiresAt = decodeJwt(tokens.access_token).exp! * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 100));
      const expired = await getMe(shortLived, tokens.access_token);
      expect(expired.status).toBe(401);
      expect(expired.challenge).toBe('Bearer error="invalid_token", error_description="The access token expired"');
    } finally {
      await shortLived.close();
    }
  });

  it('the API answers CORS preflights for the app origin only', async () => {
    const preflight = (origin: string) => fetch(`${demo.apiUrl}/me`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(allowed.headers.get('vary')).toMatch(/origin/i);

    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-headers')).toBeNull();

    const actual = await fetch(`${demo.apiUrl}/me`, { headers: { Origin: APP_ORIGIN } });
    expect(actual.status).toBe(401);
    expect(actual.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(actual.headers.get('access-control-expose-headers')).toMatch(/www-authenticate/i);
  });

  it('a failing token endpoint answers 503 or an HTML page until it is healed', async () => {
    const config = await discover(demo);
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'whatever', client_id: DEMO_CLIENT_ID });
    const post = () => fetch(`${demo.issuer}/token`, { method: 'POST', body });
    const before = demo.stats.tokenRequests;
    try {
      demo.failTokenEndpoint('unavailable');
      expect((await post()).status).toBe(503);
      demo.failTokenEndpoint('html');
      const html = await post();
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      demo.failTokenEndpoint('hang');
      const hung = await fetch(`${demo.issuer}/token`, { method: 'POST', body, signal: AbortSignal.timeout(400) })
        .then(() => 'answered', (error: Error) => error.name);
      expect(hung).toBe('TimeoutError');
    } finally {
      demo.failTokenEndpoint(null);
    }
    const healed = await post();
    expect(healed.status).toBe(400);
    expect(((await healed.json()) as { error: string }).error).toBe('invalid_grant');
    expect(await oauthError(client.refreshTokenGrant(config, 'whatever'))).toBe('invalid_grant');
    expect(demo.stats.tokenRequests).toBe(before + 5);
  });
});

describe('demo provider persistence', () => {
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    [browser, dataDir] = await Promise.all([launchBrowser(), mkdtemp(join(tmpdir(), 'latchkey-demo-restart-'))]);
  });

  afterAll(async () => {
    await browser?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a session (refresh token) survives a provider restart with the same data folder', async () => {
    const first = await startTestDemo({ dataDir });
    let refreshToken: string;
    try {
      ({ tokens: { refresh_token: refreshToken } } = await signIn(browser, first) as { tokens: { refresh_token: string } });
    } finally {
      await first.close();
    }

    const second = await startTestDemo({ dataDir, idpPort: portOf(first.issuer) });
    try {
      expect(second.issuer).toBe(first.issuer);
      const refreshed = await client.refreshTokenGrant(await discover(second), refreshToken);
      expect(refreshed.refresh_token).not.toBe(refreshToken);
      expect((await getMe(second, refreshed.access_token)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
