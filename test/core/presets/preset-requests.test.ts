// Each preset's request shapes against its provider's stand-in (test/providers/standins/*.ts), with
// the real transport: the settings a person writes, what goes on the wire (scope, parameters,
// client authentication), and how the provider's dead-token answer is read. No browser: the sign-in
// journeys are in test/providers/*-journey.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { AuthError } from '../../../src/core/errors.ts';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { connectProvider } from '../../../src/core/protocol/provider-client.ts';
import { loadProviderConfiguration } from '../../../src/core/protocol/configuration.ts';
import { startAuth0Standin } from '../../providers/standins/auth0.ts';
import { startCognitoStandin } from '../../providers/standins/cognito.ts';
import { startEntraStandin } from '../../providers/standins/entra.ts';
import { startGithubStandin } from '../../providers/standins/github.ts';
import { startGoogleStandin } from '../../providers/standins/google.ts';
import { ALICE, type Standin } from '../../providers/standins/standin.ts';

let http: HttpClient;
const standins: Standin[] = [];
beforeAll(() => {
  http = createHttpClient({ env: {} });
});
afterAll(async () => {
  await Promise.all(standins.map((standin) => standin.stop()));
  await http.close();
});

async function refusalOf(config: AuthConfig): Promise<AuthError> {
  const client = await connectProvider(config, { http });
  const error = await client.refresh('a-token-the-provider-never-issued').then(
    () => new Error('expected a refusal'),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

function lastRefresh(standin: Standin) {
  const request = standin.tokenRequests.at(-1);
  expect(request?.body.get('grant_type')).toBe('refresh_token');
  return request as NonNullable<typeof request>;
}

const load = (env: Record<string, string>) => loadConfig({ env: { AUTH_DATA_DIR: '/tmp/latchkey-preset-requests', ...env } });

describe('provider presets on the wire', () => {
  it('auth0: offline_access, no prompt, a public client; its 403 invalid_grant ends the session', async () => {
    const standin = await startAuth0Standin({ clientId: 'native', callbackUrl: 'http://127.0.0.1:53682/callback', users: [ALICE] });
    standins.push(standin);
    const config = load({ AUTH_PROVIDER: 'auth0', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'native' });
    expect(config).toMatchObject({ scope: 'openid profile email offline_access', redirectHost: '127.0.0.1' });
    expect(config.prompt).toBeUndefined();
    expect(await refusalOf(config)).toMatchObject({ code: 'session_ended', message: expect.stringContaining('invalid_grant — Unknown or invalid refresh token') });
    const sent = lastRefresh(standin);
    expect(sent.body.get('client_id')).toBe('native');
    expect(sent.body.has('client_secret')).toBe(false);
    expect(sent.authorization).toBeUndefined();
  });

  it('google: openid without offline_access, prompt=consent, the secret in the body (post); 400 invalid_grant ends the session', async () => {
    const standin = await startGoogleStandin({ clientId: 'desktop.apps.googleusercontent.com', clientSecret: 'GOCSPX-1', users: [ALICE] });
    standins.push(standin);
    const config = load({ AUTH_PROVIDER: 'google', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'desktop.apps.googleusercontent.com', AUTH_CLIENT_SECRET: 'GOCSPX-1' });
    expect(config).toMatchObject({ scope: 'openid profile email', prompt: 'consent' });
    expect(await refusalOf(config)).toMatchObject({ code: 'session_ended', message: expect.stringContaining('Token has been expired or revoked') });
    expect(lastRefresh(standin).body.get('client_secret')).toBe('GOCSPX-1');
    expect(() => load({ AUTH_PROVIDER: 'google', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'x', AUTH_CLIENT_SECRET: 'y', AUTH_SCOPE: 'openid offline_access' })).toThrow(/AUTH_SCOPE: leave out "offline_access": Google has no offline_access scope/);
  });

  it('entra: the scope on every refresh, no secret; AADSTS50173 ends the session in plain words', async () => {
    const standin = await startEntraStandin({ clientId: 'app', tenant: 'tenant-1', users: [ALICE] });
    standins.push(standin);
    const config = load({ AUTH_PROVIDER: 'entra', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'app' });
    const error = await refusalOf(config);
    expect(error.code).toBe('session_ended');
    expect(error.message).toContain('that is, your password was changed or the session was revoked');
    expect(lastRefresh(standin).body.get('scope')).toBe('openid profile email offline_access');
    expect(load({ AUTH_PROVIDER: 'entra', AUTH_TENANT: 'contoso.onmicrosoft.com', AUTH_CLIENT_ID: 'app' }).issuer).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
    expect(load({ AUTH_PROVIDER: 'entra', AUTH_TENANT: 'organizations', AUTH_CLIENT_ID: 'app', AUTH_ALLOWED_TENANTS: 'a, b' }).allowedTenants).toEqual(['a', 'b']);
  });

  it('cognito: no offline_access, a localhost redirect host; 400 invalid_grant ends the session', async () => {
    const standin = await startCognitoStandin({ clientId: 'pool-client', callbackUrl: 'http://localhost:53682/callback', users: [ALICE] });
    standins.push(standin);
    const config = load({ AUTH_PROVIDER: 'cognito', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'pool-client' });
    expect(config).toMatchObject({ scope: 'openid profile email', redirectHost: 'localhost' });
    const client = await connectProvider(config, { http });
    expect(client.redirectUriFor(53682)).toBe('http://localhost:53682/callback');
    expect(client.endSessionUrl()).toBeUndefined();
    expect((await refusalOf(config)).code).toBe('session_ended');
    const withSignOut = await connectProvider({ ...config, postLogoutRedirectUri: 'https://app.example/out' }, { http });
    expect(withSignOut.endSessionUrl()).toBe(`${standin.origin}/logout?client_id=pool-client&logout_uri=https%3A%2F%2Fapp.example%2Fout`);
  });

  it('github: endpoints only, no openid scope, the secret in the body; its HTTP 200 bad_refresh_token ends the session', async () => {
    const standin = await startGithubStandin({ clientId: 'Iv1', clientSecret: 'gh-secret', users: [ALICE] });
    standins.push(standin);
    const config = load({
      AUTH_PROVIDER: 'github',
      AUTH_ISSUER: standin.issuer,
      AUTH_CLIENT_ID: 'Iv1',
      AUTH_CLIENT_SECRET: 'gh-secret',
      AUTH_AUTHORIZATION_ENDPOINT: `${standin.origin}/login/oauth/authorize`,
      AUTH_TOKEN_ENDPOINT: `${standin.origin}/login/oauth/access_token`,
    });
    expect(config.scope).toBe('read:user user:email');
    const error = await refusalOf(config);
    expect(error).toMatchObject({ code: 'session_ended', message: expect.stringContaining('bad_refresh_token — The refresh token passed is incorrect or expired') });
    expect(lastRefresh(standin).body.get('client_secret')).toBe('gh-secret');
    expect(load({ AUTH_PROVIDER: 'github', AUTH_CLIENT_ID: 'Iv1', AUTH_CLIENT_SECRET: 's' })).toMatchObject({ issuer: 'https://github.com/', usesDemoProvider: false });
  });

  it("github: the user, revocation and device endpoints are GitHub's own with its default endpoints, left out when they point elsewhere (no token to a host not named), and the settings name them", async () => {
    const metadataOf = async (env: Record<string, string>) => (await loadProviderConfiguration(load({ AUTH_PROVIDER: 'github', AUTH_CLIENT_ID: 'Iv1', AUTH_CLIENT_SECRET: 's', ...env }), { fetch: http.fetch, insecure: false })).metadata;
    expect(await metadataOf({})).toMatchObject({ token_endpoint: 'https://github.com/login/oauth/access_token', device_authorization_endpoint: 'https://github.com/login/device/code' });
    const enterprise = { AUTH_ISSUER: 'https://ghe.example.com/', AUTH_AUTHORIZATION_ENDPOINT: 'https://ghe.example.com/login/oauth/authorize', AUTH_TOKEN_ENDPOINT: 'https://ghe.example.com/login/oauth/access_token' };
    expect(await metadataOf({})).toMatchObject({ userinfo_endpoint: 'https://api.github.com/user', revocation_endpoint: 'https://api.github.com/applications/{client_id}/token' });
    const moved = await metadataOf(enterprise);
    expect([moved.device_authorization_endpoint, moved.userinfo_endpoint, moved.revocation_endpoint]).toEqual([undefined, undefined, undefined]);
    expect(await metadataOf({ ...enterprise, AUTH_USERINFO_ENDPOINT: 'https://ghe.example.com/api/v3/user' })).toMatchObject({ userinfo_endpoint: 'https://ghe.example.com/api/v3/user' });
    expect(await metadataOf({ ...enterprise, AUTH_DEVICE_AUTHORIZATION_ENDPOINT: 'https://ghe.example.com/login/device/code' })).toMatchObject({ device_authorization_endpoint: 'https://ghe.example.com/login/device/code' });
    expect(() => load({ AUTH_PROVIDER: 'github', AUTH_CLIENT_ID: 'Iv1', AUTH_CLIENT_SECRET: 's', AUTH_DEVICE_AUTHORIZATION_ENDPOINT: 'http://ghe.example.com/login/device/code' })).toThrow(/AUTH_DEVICE_AUTHORIZATION_ENDPOINT: plain http is only allowed on this machine/);
  });

  it("github: an issuer away from the preset's endpoints is refused unless both endpoints are set; moved endpoints name the issuer by the token endpoint's origin", async () => {
    const github = { AUTH_PROVIDER: 'github', AUTH_CLIENT_ID: 'Iv1', AUTH_CLIENT_SECRET: 's' };
    expect(() => load({ ...github, AUTH_ISSUER: 'https://ghe.example.com/' })).toThrow(
      /^AUTH_ISSUER: https:\/\/ghe\.example\.com\/ is not where the github preset's endpoints are \(github\.com, api\.github\.com\).*set AUTH_AUTHORIZATION_ENDPOINT and AUTH_TOKEN_ENDPOINT too/,
    );
    expect(() => load({ ...github, AUTH_ISSUER: 'https://ghe.example.com/', AUTH_TOKEN_ENDPOINT: 'https://ghe.example.com/login/oauth/access_token' })).toThrow(/only one of them points away from GitHub's own; set both/);
    expect(load({ ...github, AUTH_ISSUER: 'https://github.com' })).toMatchObject({ issuer: 'https://github.com/' });
    const standin = await startGithubStandin({ clientId: 'Iv1', clientSecret: 's', users: [ALICE] });
    standins.push(standin);
    const endpoints = { AUTH_AUTHORIZATION_ENDPOINT: `${standin.origin}/login/oauth/authorize`, AUTH_TOKEN_ENDPOINT: `${standin.origin}/login/oauth/access_token` };
    expect(load({ ...github, ...endpoints })).toMatchObject({ issuer: `${standin.origin}/` });
    // Named http endpoints on loopback under an https issuer are used, not refused with openid-client's bare "only requests to HTTPS are allowed".
    const named = load({ ...github, ...endpoints, AUTH_ISSUER: 'https://ghe.example.com/' });
    expect((await refusalOf(named)).code).toBe('session_ended');
    expect(lastRefresh(standin).body.get('client_secret')).toBe('s');
  });

  it('an endpoint on plain http is refused with the rule and the setting, unless the configuration names it', async () => {
    const issuer = 'https://idp.example.com';
    const discovery = { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, userinfo_endpoint: 'http://127.0.0.1:9/userinfo', response_types_supported: ['code'] };
    const fetchDiscovery = (async () => Response.json(discovery)) as unknown as typeof fetch;
    const refused = await loadProviderConfiguration(load({ AUTH_ISSUER: issuer, AUTH_CLIENT_ID: 'c' }), { fetch: fetchDiscovery, insecure: false }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: 'config_invalid',
      message: `The provider at ${issuer}/ advertises userinfo_endpoint http://127.0.0.1:9/userinfo over plain http. An endpoint must use https, or http on this machine (127.0.0.1, [::1], localhost) only where the configuration names it: an issuer on loopback (AUTH_ISSUER) or AUTH_USERINFO_ENDPOINT. Set AUTH_USERINFO_ENDPOINT accordingly, or fix the provider's metadata to use https.`,
    });
    const named = await loadProviderConfiguration(load({ AUTH_ISSUER: issuer, AUTH_CLIENT_ID: 'c', AUTH_USERINFO_ENDPOINT: 'http://127.0.0.1:9/userinfo' }), { fetch: fetchDiscovery, insecure: false });
    expect(named.metadata.userinfo_endpoint).toBe('http://127.0.0.1:9/userinfo');
  });

  it('a plain OAuth 2.0 provider with the generic preset: its endpoints alone stand in for discovery, with an issuer from the token endpoint', () => {
    const config = load({ AUTH_CLIENT_ID: 'c', AUTH_AUTHORIZATION_ENDPOINT: 'https://oauth.example.com/authorize', AUTH_TOKEN_ENDPOINT: 'https://oauth.example.com/token' });
    expect(config).toMatchObject({ provider: 'generic', issuer: 'https://oauth.example.com/', endpoints: { token_endpoint: 'https://oauth.example.com/token' } });
    expect(() => load({ AUTH_CLIENT_ID: 'c', AUTH_TOKEN_ENDPOINT: 'https://oauth.example.com/token' })).toThrow(/set both to use a provider without discovery/);
  });

  it('refuses an unknown preset and a redirect host that is not loopback, naming the choices', () => {
    expect(() => load({ AUTH_PROVIDER: 'ping', AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c' })).toThrow(/AUTH_PROVIDER: "ping" is not a provider preset\. Use one of generic, auth0, entra, google, okta, keycloak, cognito, github\./);
    expect(() => load({ AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c', AUTH_REDIRECT_HOST: 'example.com' })).toThrow(/AUTH_REDIRECT_HOST: "example\.com" is not a loopback name/);
  });
});

describe('Entra tenant allow-list', () => {
  it('allows a listed tenant whatever its case, any tenant with *, and refuses others: a sign-in as denied, a refresh as the session ending', async () => {
    const { assertTenantAllowed } = await import('../../../src/core/protocol/entra-tenant.ts');
    expect(() => assertTenantAllowed('ABC-1', ['abc-1'], 'sign-in')).not.toThrow();
    expect(() => assertTenantAllowed('anything', ['*'], 'sign-in')).not.toThrow();
    expect(() => assertTenantAllowed('other', ['abc-1'], 'sign-in')).toThrow(expect.objectContaining({ code: 'sign_in_denied', message: expect.stringContaining('tenant other, which this app does not allow') }));
    expect(() => assertTenantAllowed('other', ['abc-1'], 'refresh')).toThrow(expect.objectContaining({ code: 'session_ended' }));
  });
});

describe('Entra multi-tenant sign-in (common), without a browser', () => {
  /** A browser stand-in over plain HTTP: fills the stand-in's login form and follows the redirect to the loopback callback. */
  const httpOpener = (user: { login: string; password: string }) => async (url: string) => {
    const page = await fetch(url);
    const request = /name="request" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const login = await fetch(new URL('/standin/login', url), { method: 'POST', body: new URLSearchParams({ request, login: user.login, password: user.password }), redirect: 'manual' });
    await fetch(login.headers.get('location') ?? '', { redirect: 'manual' }).then((answer) => answer.text());
  };

  it('signs in a user of an allowed tenant, checks refreshed ID tokens against the JWKS for that tenant’s issuer, and refuses other tenants', async () => {
    const adele = { ...ALICE, login: 'adele', sub: 'adele-oid', tenant: 'tenant-a' };
    const mallory = { ...ALICE, login: 'mallory', sub: 'mallory-oid', tenant: 'tenant-b' };
    const standin = await startEntraStandin({ clientId: 'app', tenant: 'common', users: [adele, mallory] });
    standins.push(standin);
    const config = load({ AUTH_PROVIDER: 'entra', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'app', AUTH_ALLOWED_TENANTS: 'TENANT-A' });
    const client = await connectProvider(config, { http });
    expect(client.metadata.issuer).toBe(`${standin.origin}/{tenantid}/v2.0`);

    const signedIn = await client.signIn({ opener: httpOpener(adele), timeoutMs: 20_000 });
    expect(signedIn.user).toMatchObject({ sub: 'adele-oid', name: ALICE.name });
    const refreshed = await client.refresh(signedIn.refreshToken as string);
    expect(refreshed.user?.sub).toBe('adele-oid');

    standin.forgeIdTokens(true);
    const forged = await client.refresh(signedIn.refreshToken as string).catch((error: unknown) => error);
    expect(forged).toMatchObject({ code: 'id_token_invalid' });
    standin.forgeIdTokens(false);

    const refused = await client.signIn({ opener: httpOpener(mallory), timeoutMs: 20_000 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'sign_in_denied', message: expect.stringContaining('tenant tenant-b, which this app does not allow (AUTH_ALLOWED_TENANTS: TENANT-A)') });
  });

  it('signs in with a code through the same tenant check: a user of an allowed tenant is accepted, one of another tenant refused', async () => {
    const adele = { ...ALICE, login: 'adele', sub: 'adele-oid', tenant: 'tenant-a' };
    const mallory = { ...ALICE, login: 'mallory', sub: 'mallory-oid', tenant: 'tenant-b' };
    const standin = await startEntraStandin({ clientId: 'app', tenant: 'common', users: [adele, mallory] });
    standins.push(standin);
    const client = await connectProvider(load({ AUTH_PROVIDER: 'entra', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'app', AUTH_ALLOWED_TENANTS: 'tenant-a' }), { http });
    const approvedBy = (login: string) => ({ onCode: (prompt: { userCode: string }) => standin.approveDeviceCode(prompt.userCode, login) });

    const signedIn = await client.deviceSignIn(approvedBy('adele'));
    expect(signedIn.user).toMatchObject({ sub: 'adele-oid', name: ALICE.name });
    expect(signedIn.refreshToken).toEqual(expect.any(String));
    // Answered once: the tenant's answer is read and checked, not asked for again.
    expect(standin.tokenRequests.filter((request) => request.body.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code')).toHaveLength(1);

    const refused = await client.deviceSignIn(approvedBy('mallory')).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'sign_in_denied', message: expect.stringContaining('tenant tenant-b, which this app does not allow (AUTH_ALLOWED_TENANTS: tenant-a)') });
  });
});
