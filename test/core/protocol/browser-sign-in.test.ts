// Sign-in end to end: the real demo provider, Chromium as the system browser,
// the real loopback listener and openid-client over undici.
import { createServer, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type AuthConfig } from '../../../src/core/config/auth-config.ts';
import { AuthError } from '../../../src/core/errors.ts';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { connectProvider, type ProviderClient } from '../../../src/core/protocol/provider-client.ts';
import { type Opener } from '../../../src/core/protocol/flow-context.ts';
import { browserOpener, DEMO_ALICE, DEMO_BOB, launchBrowser, type Browser } from '../../../support/browser.ts';
import { demoEnv, portOf, startTestDemo } from '../../helpers/demo.ts';

const NOW = 1_800_000_000_000;
const ACCESS_TOKEN_TTL_S = 120;

let demo: Awaited<ReturnType<typeof startTestDemo>>;
let browser: Browser;
let http: HttpClient;
let config: AuthConfig;
let provider: ProviderClient;

beforeAll(async () => {
  [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S }), launchBrowser()]);
  http = createHttpClient({ env: {} });
  config = loadConfig({ env: demoEnv(demo), dataDir: demo.dataDir });
  provider = await connectProvider(config, { http, clock: () => NOW });
});

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await demo?.close();
});

function errorOf(promise: Promise<unknown>): Promise<AuthError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(AuthError);
      return error as AuthError;
    },
  );
}

function canBind(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function redirectPortOf(authorizationUrl: string): number {
  return portOf(new URL(authorizationUrl).searchParams.get('redirect_uri') as string);
}

describe('signIn against the demo provider', () => {
  it('signs in through the browser and returns tokens and the user', async () => {
    const opener = browserOpener(browser, DEMO_ALICE);
    const result = await provider.signIn({ opener, timeoutMs: 30_000 });
    expect(result.accessToken).toEqual(expect.any(String));
    expect(result.refreshToken).toEqual(expect.any(String));
    expect(result.idToken).toEqual(expect.any(String));
    expect(result.expiresAt).toBe(NOW + ACCESS_TOKEN_TTL_S * 1000);
    expect(result.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    expect(result.user).toMatchObject({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com' });

    const sent = new URL(opener.urls[0] as string).searchParams;
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(sent.get('audience')).toBe(config.audience);
    expect(sent.get('scope')).toBe('openid profile email offline_access');
    // OpenID Connect Core §11: without it a stock provider (this demo) issues no refresh token.
    expect(sent.get('prompt')).toBe('consent');
    expect(sent.get('client_secret')).toBeNull();

    await opener.done;
    const page = opener.lastPage!;
    await page.waitForURL(/\/done\?r=/);
    expect(page.url()).not.toContain('code=');
    expect(await page.locator('h1').textContent()).toBe('Signed in');
    expect(await page.textContent('body')).toContain('you can close this tab and return to Latchkey');
    expect(await canBind(redirectPortOf(opener.urls[0] as string))).toBe(true);
    await opener.close();
  });

  it('uses a fresh state, nonce and PKCE verifier for every attempt', async () => {
    const opener = browserOpener(browser, DEMO_BOB);
    const result = await provider.signIn({ opener, timeoutMs: 30_000 });
    expect(result.user?.sub).toBe('bob');
    const cancelled = browserOpener(browser, { ...DEMO_BOB, consent: 'none' });
    const controller = new AbortController();
    const second = provider.signIn({ opener: async (url) => { await cancelled(url); controller.abort(); }, signal: controller.signal });
    expect((await errorOf(second)).code).toBe('sign_in_cancelled');
    const [a, b] = [opener.urls[0], cancelled.urls[0]].map((url) => new URL(url as string).searchParams);
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(a?.get(name)).toEqual(expect.any(String));
      expect(a?.get(name)).not.toBe(b?.get(name));
    }
    await Promise.all([opener.close(), cancelled.close()]);
  });

  it('refuses forged callbacks while pending and still completes with the real one', async () => {
    const browserOpen = browserOpener(browser, DEMO_ALICE);
    const forgedStatuses: number[] = [];
    const opener: Opener = async (url) => {
      const redirectUri = new URL(new URL(url).searchParams.get('redirect_uri') as string);
      for (const [path, host] of [
        ['/callback?code=forged&state=wrong', redirectUri.host],
        ['/callback?code=forged', redirectUri.host],
        [`/callback?code=forged&state=${new URL(url).searchParams.get('state')}`, 'rebound.example'],
      ] as const) {
        forgedStatuses.push(await new Promise<number>((resolve, reject) => {
          request({ host: '127.0.0.1', port: redirectUri.port, path, headers: { host } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject).end();
        }));
      }
      await browserOpen(url);
    };
    const result = await provider.signIn({ opener, timeoutMs: 30_000 });
    expect(forgedStatuses.every((status) => status >= 400 && status < 500)).toBe(true);
    expect(result.user?.sub).toBe('alice');
    await browserOpen.close();
  });

  it('ends at once with sign_in_denied when the user denies consent', async () => {
    const opener = browserOpener(browser, { ...DEMO_ALICE, consent: 'deny' });
    const started = Date.now();
    const error = await errorOf(provider.signIn({ opener, timeoutMs: 60_000 }));
    expect(error.code).toBe('sign_in_denied');
    expect(error.message).toContain('access_denied');
    expect(Date.now() - started).toBeLessThan(30_000);
    await opener.done;
    const page = opener.lastPage!;
    await page.waitForURL(/\/done\?r=/);
    expect(await page.textContent('body')).not.toContain('Signed in');
    expect(await page.locator('h1').textContent()).toBe('Sign-in not completed');
    expect(await canBind(redirectPortOf(opener.urls[0] as string))).toBe(true);
    await opener.close();
  });

  it('tells the browser the truth when the code exchange fails', async () => {
    const opener = browserOpener(browser, DEMO_ALICE);
    demo.failTokenEndpoint('unavailable');
    try {
      const error = await errorOf(provider.signIn({ opener, timeoutMs: 30_000 }));
      expect(error.code).toBe('provider_unreachable');
    } finally {
      demo.failTokenEndpoint(null);
    }
    await opener.done;
    const page = opener.lastPage!;
    await page.waitForURL(/\/done\?r=/);
    expect(page.url()).not.toContain('code=');
    expect(await page.locator('h1').textContent()).toBe('Sign-in failed');
    expect(await page.textContent('body')).not.toContain('Signed in');
    await opener.close();
  });

  it('times out and frees the port', async () => {
    let opened = '';
    const error = await errorOf(provider.signIn({ opener: async (url) => void (opened = url), timeoutMs: 300 }));
    expect(error.code).toBe('sign_in_timeout');
    expect(await canBind(redirectPortOf(opened))).toBe(true);
  });

  it('times out even when the opener never settles', async () => {
    const error = await errorOf(provider.signIn({ opener: () => new Promise(() => {}), timeoutMs: 300 }));
    expect(error.code).toBe('sign_in_timeout');
  });

  it('ends with a clear error when the browser cannot be opened', async () => {
    let opened = '';
    const error = await errorOf(provider.signIn({ opener: async (url) => { opened = url; throw new Error('no display'); }, timeoutMs: 30_000 }));
    expect(error.code).toBe('browser_unavailable');
    expect(error.message).toMatch(/browser could not be opened \(no display\)/);
    expect(await canBind(redirectPortOf(opened))).toBe(true);
  });

  it('is cancelled by its signal and frees the port', async () => {
    const controller = new AbortController();
    let opened = '';
    let browserOpened!: () => void;
    const browserOpening = new Promise<void>((resolve) => (browserOpened = resolve));
    const signIn = provider.signIn({ opener: async (url) => void ((opened = url), browserOpened()), signal: controller.signal });
    // Cancel while the browser is out: the listener is up and waiting (not before the redirect pre-flight ends).
    await browserOpening;
    controller.abort();
    expect((await errorOf(signIn)).code).toBe('sign_in_cancelled');
    expect(await canBind(redirectPortOf(opened))).toBe(true);
  });

  it('reports a busy fixed redirect port', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const fixed = await connectProvider({ ...config, redirectPort: port }, { http });
      const error = await errorOf(fixed.signIn({ opener: async () => {}, timeoutMs: 1_000 }));
      expect(error.code).toBe('port_in_use');
      expect(error.message).toContain(String(port));
      expect(error.message).toContain('AUTH_REDIRECT_PORT');
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
