// The profile after sign-in: UserInfo over the ID token's claims. The first
// part decides and merges with UserInfo answers handed in; the last signs in
// through Chromium against the demo with opaque access tokens, where the ID
// token carries no name or email and UserInfo has them (OpenID Connect Core §5.4).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config/auth-config.ts';
import { createHttpClient } from '../../../src/core/net/http.ts';
import { connectProvider } from '../../../src/core/protocol/provider-client.ts';
import { accessTokenIsForUserInfo, withUserInfo, type UserInfoDeps } from '../../../src/core/protocol/profile.ts';
import type { Logger } from '../../../src/shared/logger.ts';
import { DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import { browserOpener, DEMO_ALICE, launchBrowser, type Browser } from '../../../support/browser.ts';
import { startTestDemo } from '../../helpers/demo.ts';

const ENDPOINT = 'https://idp.example.com/userinfo';
const ID_TOKEN_USER = { sub: 'alice', name: 'alice' };

function jwtWithAudience(aud: string | string[]): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ sub: 'alice', aud })}.signature`;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message) => void warnings.push(message) };
}

function deps(answer: () => Promise<Record<string, unknown>>, overrides: Partial<UserInfoDeps> = {}) {
  const calls: string[] = [];
  const logger = recordingLogger();
  const value: UserInfoDeps = {
    config: {},
    endpoint: ENDPOINT,
    fetchClaims: async (accessToken) => {
      calls.push(accessToken);
      return answer();
    },
    logger,
    ...overrides,
  };
  return { deps: value, calls, logger };
}

describe('withUserInfo', () => {
  it('merges UserInfo’s name, email and picture over the ID token’s claims', async () => {
    const { deps: d, calls } = deps(async () => ({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', picture: 'https://example.com/a.png', other: 1 }));
    expect(await withUserInfo(ID_TOKEN_USER, 'opaque-token', d)).toEqual({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', picture: 'https://example.com/a.png' });
    expect(calls).toEqual(['opaque-token']);
  });

  it('ignores UserInfo that names another subject, with a warning (OpenID Connect Core §5.3.4)', async () => {
    const { deps: d, logger } = deps(async () => ({ sub: 'mallory', name: 'Mallory' }));
    expect(await withUserInfo(ID_TOKEN_USER, 'at', d)).toEqual(ID_TOKEN_USER);
    expect(logger.warnings).toEqual([expect.stringMatching(/another subject.*ignored/)]);
  });

  it('keeps the ID token’s profile when UserInfo fails; it never fails the sign-in', async () => {
    const { deps: d, logger } = deps(async () => {
      throw new Error('HTTP 500');
    });
    expect(await withUserInfo(ID_TOKEN_USER, 'at', d)).toEqual(ID_TOKEN_USER);
    expect(logger.warnings).toEqual([expect.stringMatching(/UserInfo failed/)]);
  });

  it('does not call UserInfo when the provider has none, or when the access token is for another API', async () => {
    const none = deps(async () => ({ sub: 'alice', name: 'X' }), { endpoint: undefined });
    expect(await withUserInfo(ID_TOKEN_USER, 'at', none.deps)).toEqual(ID_TOKEN_USER);
    const api = deps(async () => ({ sub: 'alice', name: 'X' }), { config: { audience: 'https://api.example.com' } });
    expect(await withUserInfo(ID_TOKEN_USER, jwtWithAudience('https://api.example.com'), api.deps)).toEqual(ID_TOKEN_USER);
    expect([...none.calls, ...api.calls]).toEqual([]);
  });
});

describe('accessTokenIsForUserInfo', () => {
  it('is true without audience or resource: the provider’s own token', () => {
    expect(accessTokenIsForUserInfo({}, ENDPOINT, 'opaque')).toBe(true);
  });

  it('with an audience or resource, only when the token lists UserInfo too (Auth0 does with openid)', () => {
    expect(accessTokenIsForUserInfo({ audience: 'https://api' }, ENDPOINT, jwtWithAudience(['https://api', ENDPOINT]))).toBe(true);
    expect(accessTokenIsForUserInfo({ resource: 'https://api' }, ENDPOINT, jwtWithAudience('https://api'))).toBe(false);
    expect(accessTokenIsForUserInfo({ audience: 'https://api' }, ENDPOINT, 'opaque')).toBe(false);
  });
});

describe('sign-in against a provider that keeps the profile in UserInfo (the demo, opaque access tokens)', () => {
  let browser: Browser;
  let demo: Awaited<ReturnType<typeof startTestDemo>>;

  beforeAll(async () => {
    [browser, demo] = await Promise.all([launchBrowser(), startTestDemo({ accessTokenFormat: 'opaque' })]);
  });
  afterAll(async () => {
    await Promise.all([browser?.close(), demo?.close()]);
  });

  it('the ID token has no name or email; the profile has them from UserInfo', async () => {
    const config = loadConfig({ env: { AUTH_ISSUER: demo.issuer, AUTH_CLIENT_ID: DEMO_CLIENT_ID }, dataDir: demo.dataDir });
    const http = createHttpClient({ env: {} });
    const opener = browserOpener(browser, DEMO_ALICE);
    try {
      const provider = await connectProvider(config, { http });
      const result = await provider.signIn({ opener, timeoutMs: 30_000 });
      const idTokenClaims = JSON.parse(Buffer.from(result.idToken!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(idTokenClaims).toMatchObject({ sub: 'alice' });
      expect(idTokenClaims).not.toHaveProperty('name');
      expect(idTokenClaims).not.toHaveProperty('email');
      expect(result.accessToken).not.toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(result.user).toEqual({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com', picture: expect.any(String) });
    } finally {
      await opener.close();
      await http.close();
    }
  });
});
