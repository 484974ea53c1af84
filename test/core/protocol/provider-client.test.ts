// Refresh, revocation and end-session against the real demo provider (signed
// in once through Chromium), and how failures are classified: the difference
// between "sign in again" and "try again later" decides whether a refresh
// token is deleted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { AuthError } from '../../../src/core/errors.ts';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { connectProvider, type ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import { type TokenResult } from '../../../src/core/protocol/flow-context.ts';
import { browserOpener, DEMO_ALICE, launchBrowser, type Browser } from '../../../support/browser.ts';
import { demoEnv, startTestDemo } from '../../helpers/demo.ts';

const NOW = 1_800_000_000_000;
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let demo: Awaited<ReturnType<typeof startTestDemo>>;
let demoClosed = false;
let browser: Browser;
let http: HttpClient;
let config: AuthConfig;
let provider: ProviderClient;

beforeAll(async () => {
  [demo, browser] = await Promise.all([startTestDemo(), launchBrowser()]);
  http = createHttpClient({ env: {} });
  config = loadConfig({ env: demoEnv(demo), dataDir: demo.dataDir });
  provider = await connectProvider(config, { http, clock: () => NOW });
});

afterAll(async () => {
  await browser?.close();
  await http?.close();
  if (!demoClosed) await demo?.close();
});

async function signIn(): Promise<TokenResult & { refreshToken: string }> {
  const opener = browserOpener(browser, DEMO_ALICE);
  try {
    const result = await provider.signIn({ opener, timeoutMs: 30_000 });
    expect(result.refreshToken).toEqual(expect.any(String));
    return result as TokenResult & { refreshToken: string };
  } finally {
    await opener.done;
    await opener.close();
  }
}

async function errorOf(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('connectProvider', () => {
  it('discovers the demo provider once and exposes its metadata', () => {
    expect(provider.issuer).toBe(config.issuer);
    expect(provider.metadata.token_endpoint).toEqual(expect.stringContaining(demo.issuer));
    expect(provider.redirectUriFor(1234)).toBe('http://127.0.0.1:1234/callback');
  });

  it('names the issuer and how to start the demo provider when discovery fails', async () => {
    const nobody = createServer();
    await new Promise<void>((resolve) => nobody.listen(0, '127.0.0.1', resolve));
    const port = (nobody.address() as AddressInfo).port;
    await new Promise((resolve) => nobody.close(resolve));
    const down = loadConfig({ env: { DEMO_IDP_PORT: String(port) }, dataDir: demo.dataDir });
    const error = await errorOf(connectProvider(down, { http }));
    expect(error.code).toBe('provider_unreachable');
    expect(error.message).toContain(`http://127.0.0.1:${port}/`);
    expect(error.message).toContain('npm run idp');
  });
});

describe('refresh, revoke and end session', () => {
  let session: TokenResult & { refreshToken: string };
  let current: string;

  beforeAll(async () => {
    session = await signIn();
    current = session.refreshToken;
  });

  it('refreshes: a new access token, a rotated refresh token, the user from the new ID token', async () => {
    const refreshed = await provider.refresh(current);
    expect(refreshed.accessToken).not.toBe(session.accessToken);
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(current);
    expect(refreshed.expiresAt).toBe(NOW + 60_000);
    expect(refreshed.user?.sub).toBe('alice');
    current = refreshed.refreshToken as string;
  });

  it.each(['unavailable', 'html'] as const)('classifies a token endpoint that answers %s as provider_unreachable, and the token still works', async (mode) => {
    demo.failTokenEndpoint(mode);
    try {
      const error = await errorOf(provider.refresh(current));
      expect(error.code).toBe('provider_unreachable');
    } finally {
      demo.failTokenEndpoint(null);
    }
    current = (await provider.refresh(current)).refreshToken as string;
  });

  it('classifies a token endpoint that never answers as provider_unreachable once the timeout passes', async () => {
    const impatient = createHttpClient({ env: {}, headersTimeoutMs: 500 });
    try {
      const client = await connectProvider(config, { http: impatient });
      demo.failTokenEndpoint('hang');
      const started = Date.now();
      const error = await errorOf(client.refresh(current));
      expect(error.code).toBe('provider_unreachable');
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      demo.failTokenEndpoint(null);
      await impatient.close();
    }
    current = (await provider.refresh(current)).refreshToken as string;
  });

  it('classifies a reused (rotated-out) refresh token as session_ended, and the whole family is revoked', async () => {
    const before = current;
    const next = (await provider.refresh(before)).refreshToken as string;
    const reused = await errorOf(provider.refresh(before));
    expect(reused.code).toBe('session_ended');
    expect(reused.message).toMatch(/invalid_grant.*Sign in again/);
    expect((await errorOf(provider.refresh(next))).code).toBe('session_ended');
  });

  it('revokes a refresh token so the provider refuses it afterwards', async () => {
    const fresh = await signIn();
    await provider.revoke(fresh.refreshToken);
    expect((await errorOf(provider.refresh(fresh.refreshToken))).code).toBe('session_ended');
  });

  it('builds the end-session URL with the client id and no ID token, which the provider accepts (RP-Initiated Logout 1.0 §2)', async () => {
    const url = new URL(provider.endSessionUrl() as string);
    expect(url.href.startsWith(provider.metadata.end_session_endpoint as string)).toBe(true);
    expect(url.searchParams.get('client_id')).toBe(config.clientId);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    expect(url.searchParams.has('post_logout_redirect_uri')).toBe(false);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url.href);
      expect(await page.locator('h1').textContent()).toBe('Signed out');
    } finally {
      await context.close();
    }
  });

  it('adds the post-logout redirect URI only when one is configured', async () => {
    const withRedirect = await connectProvider({ ...config, postLogoutRedirectUri: 'https://app.example.com/signed-out' }, { http });
    const url = new URL(withRedirect.endSessionUrl() as string);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://app.example.com/signed-out');
    expect(url.searchParams.get('client_id')).toBe(config.clientId);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
  });

  it('classifies a provider that is gone (connection refused) as provider_unreachable', async () => {
    const fresh = await signIn();
    await demo.close();
    demoClosed = true;
    const error = await errorOf(provider.refresh(fresh.refreshToken));
    expect(error.code).toBe('provider_unreachable');
    expect(error.message).toContain('ECONNREFUSED');
  });
});

// oidc-provider always signs correctly, so these use a minimal stand-in
// provider whose token endpoint answers exactly what each test needs.
describe('answers the demo provider never gives', () => {
  let server: Server;
  let issuer: string;
  /** `json` is sent as application/json; `raw` as is, with `headers` (e.g. Glewlwyd's empty 400, a 429 with Retry-After). */
  let tokenAnswer: (body: URLSearchParams) => { status: number; json?: unknown; raw?: string; headers?: Record<string, string> };
  let signingKey: SigningKey;
  let otherKey: SigningKey;
  let stub: ProviderClient;
  let revocations = 0;
  let advertiseRemoteHttp = false;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url?.endsWith('/.well-known/openid-configuration')) {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}authorize`,
          token_endpoint: advertiseRemoteHttp ? 'http://idp.example.invalid/token' : `${issuer}token`,
          jwks_uri: `${issuer}jwks`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['ES256'],
        });
      }
      if (req.url === '/jwks') return json(200, { keys: [jwk] });
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/revoke') {
          revocations += 1;
          return json(200, {});
        }
        const answer = tokenAnswer(new URLSearchParams(body));
        if (answer.raw !== undefined) return res.writeHead(answer.status, answer.headers ?? {}).end(answer.raw);
        json(answer.status, answer.json);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    stub = await connectProvider({ ...config, issuer, clientId: 'stub-client', usesDemoProvider: false }, { http });
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  const idToken = (key: SigningKey, claims: Record<string, unknown> = {}) =>
    new SignJWT({ name: 'Stub User', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience('stub-client')
      .setSubject('stub-user')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  it('accepts an ID token signed with the provider\'s key and sends audience on refresh', async () => {
    let sent: URLSearchParams | undefined;
    const token = await idToken(signingKey);
    tokenAnswer = (body) => {
      sent = body;
      return { status: 200, json: { access_token: 'at', token_type: 'Bearer', id_token: token } };
    };
    const result = await stub.refresh('rt');
    expect(result.user).toEqual({ sub: 'stub-user', name: 'Stub User' });
    expect(result.refreshToken).toBeUndefined();
    expect(sent?.get('grant_type')).toBe('refresh_token');
    expect(sent?.get('audience')).toBe(config.audience);
    expect(sent?.get('client_id')).toBe('stub-client');
    expect(sent?.has('client_secret')).toBe(false);
  });

  it('refuses an ID token whose signature does not verify against the JWKS', async () => {
    const forged = await idToken(otherKey);
    tokenAnswer = () => ({ status: 200, json: { access_token: 'at', token_type: 'Bearer', id_token: forged } });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('id_token_invalid');
    expect(error.message).toContain('signature');
  });

  it('refuses an ID token for another audience', async () => {
    const wrongAudience = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience('someone-else').setSubject('x').setIssuedAt().setExpirationTime('5m').sign(signingKey);
    tokenAnswer = () => ({ status: 200, json: { access_token: 'at', token_type: 'Bearer', id_token: wrongAudience } });
    expect((await errorOf(stub.refresh('rt'))).code).toBe('id_token_invalid');
  });

  it('classifies a 5xx with an OAuth JSON body as provider_unreachable', async () => {
    tokenAnswer = () => ({ status: 500, json: { error: 'server_error', error_description: 'database down' } });
    expect((await errorOf(stub.refresh('rt'))).code).toBe('provider_unreachable');
  });

  it.each([
    [400, 'invalid_request', 'unknown refresh token'],
    [400, 'invalid_scope', 'offline_access is not allowed'],
    [401, 'invalid_client', 'client authentication failed'],
    [400, 'unauthorized_client', 'refresh_token grant not allowed'],
  ])('ends the session when a refresh is refused with HTTP %i %s, naming the provider\'s reason and saying to sign in again', async (status, code, description) => {
    tokenAnswer = () => ({ status, json: { error: code, error_description: description } });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('session_ended');
    expect(error.message).toMatch(new RegExp(`^Your session ended at the provider: it refused the refresh \\(${code} — ${description}(; that is, [^)]+)?\\)\\. Sign in again\\.$`));
  });

  it.each([400, 401])('ends the session when a refresh gets HTTP %i with an empty body (Glewlwyd\'s spent token): refused, not unreachable', async (status) => {
    tokenAnswer = () => ({ status, raw: '' });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('session_ended');
    expect(error.message).toBe(`Your session ended at the provider: it refused the refresh (HTTP ${status}, without an explanation). Sign in again.`);
    expect(error.message).not.toMatch(/reached|network/);
  });

  it('keeps the session on HTTP 429 and carries Retry-After, as seconds or as a date against the answer\'s own Date', async () => {
    tokenAnswer = () => ({ status: 429, raw: 'slow down', headers: { 'content-type': 'text/plain', 'retry-after': '120' } });
    const seconds = await errorOf(stub.refresh('rt'));
    expect(seconds).toMatchObject({ code: 'provider_unreachable', retryAfterMs: 120_000 });
    expect(seconds.message).toMatch(/rate-limiting requests \(HTTP 429\) and asked to wait 120 s\. Your session is kept/);
    const date = new Date(Date.UTC(2020, 0, 1));
    tokenAnswer = () => ({ status: 429, raw: JSON.stringify({ error: 'slow_down' }), headers: { 'content-type': 'application/json', date: date.toUTCString(), 'retry-after': new Date(date.getTime() + 30_000).toUTCString() } });
    expect(await errorOf(stub.refresh('rt'))).toMatchObject({ code: 'provider_unreachable', retryAfterMs: 30_000 });
  });

  it('keeps the session on a 2xx that is not a token response, and on a 503 page', async () => {
    tokenAnswer = () => ({ status: 200, raw: '<html>Wi-Fi sign-in</html>', headers: { 'content-type': 'text/html' } });
    expect((await errorOf(stub.refresh('rt'))).code).toBe('provider_unreachable');
    tokenAnswer = () => ({ status: 503, raw: 'Service Unavailable', headers: { 'content-type': 'text/plain' } });
    expect((await errorOf(stub.refresh('rt'))).code).toBe('provider_unreachable');
  });

  it('ends the session on Auth0\'s answer to a dead refresh token: HTTP 403 invalid_grant', async () => {
    tokenAnswer = () => ({ status: 403, json: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('session_ended');
    expect(error.message).toBe('Your session ended at the provider: it refused the refresh (invalid_grant — Unknown or invalid refresh token). Sign in again.');
  });

  it('ends the session on GitHub\'s answer to a dead refresh token: HTTP 200 with an error body and no access token', async () => {
    tokenAnswer = () => ({ status: 200, json: { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.', error_uri: 'https://docs.github.com' } });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('session_ended');
    expect(error.message).toBe(
      'Your session ended at the provider: it refused the refresh (bad_refresh_token — The refresh token passed is incorrect or expired; that is, the refresh token is expired, revoked or already used). Sign in again.',
    );
  });

  it('ends the session on any 400/401/403 OAuth refusal, and on invalid_grant whatever the status', async () => {
    tokenAnswer = () => ({ status: 403, json: { error: 'access_denied', error_description: 'client disabled' } });
    expect(await errorOf(stub.refresh('rt'))).toMatchObject({ code: 'session_ended', message: expect.stringContaining('access_denied — client disabled') });
    tokenAnswer = () => ({ status: 409, json: { error: 'invalid_grant' } });
    expect((await errorOf(stub.refresh('rt'))).code).toBe('session_ended');
  });

  it('explains an Entra AADSTS reason in plain words and names an unknown code with its description', async () => {
    tokenAnswer = () => ({ status: 400, json: { error: 'invalid_grant', error_description: 'AADSTS50173: The provided grant has expired due to it being revoked.' } });
    expect((await errorOf(stub.refresh('rt'))).message).toContain('that is, your password was changed or the session was revoked');
    tokenAnswer = () => ({ status: 400, json: { error: 'tenant_gone', error_description: 'The tenant was deleted.' } });
    const unknown = await errorOf(stub.refresh('rt'));
    expect(unknown.code).toBe('session_ended');
    expect(unknown.message).toContain('the provider\'s own error code "tenant_gone", described as: The tenant was deleted');
  });

  it('keeps the session on an OAuth error with another status (418), as a provider error', async () => {
    tokenAnswer = () => ({ status: 418, json: { error: 'access_denied', error_description: 'teapot' } });
    const error = await errorOf(stub.refresh('rt'));
    expect(error.code).toBe('provider_error');
    expect(error.message).toContain('access_denied — teapot');
  });

  it('refuses a loopback issuer that sends tokens to plain http elsewhere', async () => {
    advertiseRemoteHttp = true;
    try {
      const error = await errorOf(connectProvider({ ...config, issuer, clientId: 'stub-client', usesDemoProvider: false }, { http }));
      expect(error.message).toMatch(/token_endpoint http:\/\/idp\.example\.invalid\/token over plain http/);
    } finally {
      advertiseRemoteHttp = false;
    }
  });

  it('names the issuer and the setting to check when discovery answers for another issuer', async () => {
    const error = await errorOf(connectProvider({ ...config, issuer: `${issuer}tenant/`, clientId: 'stub-client', usesDemoProvider: false }, { http }));
    expect(error.code).toBe('provider_unreachable');
    expect(error.message).toContain(`${issuer}tenant/`);
    expect(error.message).toMatch(/does not match the expected issuer.*Check that AUTH_ISSUER/);
    expect(error.message).not.toContain('npm run idp');
  });

  it('skips revocation when the provider advertises no revocation endpoint, and has no end-session URL', async () => {
    await stub.revoke('rt');
    expect(revocations).toBe(0);
    expect(stub.endSessionUrl()).toBeUndefined();
  });
});
