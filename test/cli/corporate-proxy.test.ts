// Behind a company network, with the real parts: the demo provider served over
// https with a certificate from a test root (standing in for a TLS-inspection
// root), under a name only an authenticating CONNECT proxy (proxy-chain) can
// resolve; Chromium signs in through the same proxy; the CLI runs as processes.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthSession, createHttpClient, createLogger, keychainAccount, loadConfig } from '../../src/core/index.ts';
import { browserOpener, launchBrowser, type Browser } from '../../support/browser.ts';
import { startTestDemo } from '../helpers/demo.ts';
import { demoCliEnv, runCli } from '../helpers/cli.ts';
import { createTestCertificates, TEST_CA_NAME, type TestCertificates } from '../helpers/test-ca.ts';
import { startTestProxy, type TestProxy } from '../helpers/test-proxy.ts';

const IDP_HOST = 'idp.latchkey.test';
const APP_USER = 'latchkey';
const APP_PASSWORD = 'app-pass-4f1c';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'AUTH_CA_FILE'];

describe('behind an authenticating proxy that inspects TLS', () => {
  let certificates: TestCertificates;
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let proxy: TestProxy;
  let browser: Browser;
  let dataDir: string;
  const service = `latchkey-test-proxy-${randomUUID()}`;

  beforeAll(async () => {
    certificates = await createTestCertificates([IDP_HOST]);
    [demo, proxy] = await Promise.all([
      startTestDemo({ tls: { key: certificates.key, cert: certificates.cert }, issuerHost: IDP_HOST }),
      startTestProxy({ hosts: { [IDP_HOST]: '127.0.0.1' }, users: { [APP_USER]: APP_PASSWORD, browser: 'browser-pass' } }),
    ]);
    // The browser has its own proxy credentials, so the log tells its requests from the app's; the test root is
    // trusted only by the app (AUTH_CA_FILE), never by the browser or the OS.
    browser = await launchBrowser({ proxy: { server: proxy.url, username: 'browser', password: 'browser-pass' }, ignoreCertificateErrors: true });
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-proxy-data-'));
  });

  afterAll(async () => {
    await keytar.deletePassword(service, keychainAccount(loadConfig({ env: env() })));
    await browser?.close();
    await Promise.all([demo?.close(), proxy?.close()]);
    await certificates?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const own = { HTTPS_PROXY: `http://${APP_USER}:${APP_PASSWORD}@127.0.0.1:${proxy.port}`, AUTH_CA_FILE: certificates.caFile, ...extra };
    const result = demoCliEnv(demo, { service, dataDir }, own);
    // The machine's own proxy and CA variables must not route around the test proxy or its trust setting.
    for (const name of PROXY_VARIABLES) if (!(name in own)) delete result[name];
    return result;
  }

  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, env(extra));

  const storedEntry = () => keytar.getPassword(service, keychainAccount(loadConfig({ env: env() })));
  const appTunnels = (since: number) => proxy.log.slice(since).filter((entry) => entry.user === APP_USER && entry.method === 'CONNECT' && entry.host === IDP_HOST);

  it('signs in through the proxy, trusting the inspection root only through AUTH_CA_FILE; a refresh in another process goes through it too', async () => {
    expect(demo.issuer).toBe(`https://${IDP_HOST}:${new URL(demo.issuer).port}/`.replace(/\/$/, ''));
    const config = loadConfig({ env: env() });
    const http = createHttpClient({ env: env(), caFile: config.caFile });
    const opener = browserOpener(browser);
    const session = await createAuthSession({ config, opener, http, logger: createLogger({ level: 'silent' }) });
    try {
      const state = await session.signIn({ timeoutMs: 30_000 });
      expect(opener.lastError).toBeUndefined();
      expect(state).toMatchObject({ status: 'signed-in', user: { name: 'Alice Liddell' } });
    } finally {
      await session.close();
      await http.close();
    }
    // The app's own requests (discovery, the code exchange) went through the proxy, under the app's credentials.
    expect(appTunnels(0).length).toBeGreaterThan(0);
    expect(proxy.log.some((entry) => entry.user === 'browser' && entry.host === IDP_HOST)).toBe(true);

    const before = proxy.log.length;
    const storedBefore = await storedEntry();
    const refreshed = await cli(['token', '--refresh']);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toMatch(JWT);
    expect(appTunnels(before).length).toBeGreaterThan(0);
    // The rotated refresh token was stored: the refresh really reached the token endpoint.
    expect(await storedEntry()).not.toBe(storedBefore);
  });

  it('without the extra root: the message names the certificate issuer and TLS inspection; exit 3; the session is kept', async () => {
    const stored = await storedEntry();
    expect(stored).not.toBeNull();
    const result = await cli(['token', '--refresh'], { AUTH_CA_FILE: '' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`The certificate ${IDP_HOST}:${new URL(demo.issuer).port} presented is issued by "${TEST_CA_NAME}" (Latchkey Tests)`);
    expect(result.stderr).toMatch(/does not trust \((UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
    expect(result.stderr).toMatch(/company proxy .* may be inspecting TLS .* set AUTH_CA_FILE/);
    expect(await storedEntry()).toBe(stored);
  });

  it('trusts the root through NODE_EXTRA_CA_CERTS too; doctor names the proxy, its source and the certificate issuer, never the password', async () => {
    const result = await cli(['doctor'], { AUTH_CA_FILE: '', NODE_EXTRA_CA_CERTS: certificates.caFile });
    expect(result.stdout).toMatch(new RegExp(`✓ Proxy: http://127\\.0\\.0\\.1:${proxy.port} for ${IDP_HOST}:\\d+ — from HTTPS_PROXY`));
    expect(result.stdout).toMatch(new RegExp(`✓ TLS: the certificate of ${IDP_HOST}:\\d+ is trusted; issued by "${TEST_CA_NAME}"`));
    // Trust the environment widened is named as such: the installed app would not trust it.
    expect(result.stdout).toMatch(/this command also trusts the roots [^;)]*NODE_EXTRA_CA_CERTS[^;)]* names?; the installed app does not/);
    expect(result.stdout).toMatch(/✓ Clock: within [0-2] s of the provider's/);
    expect(result.stdout).toMatch(/✓ Discovery/);
    expect(result.stdout + result.stderr).not.toContain(APP_PASSWORD);
  });

  it('a proxy that wants credentials: one 407, a message naming the proxy and how to give them, exit 3, the session kept', async () => {
    const stored = await storedEntry();
    const before = proxy.log.length;
    const result = await cli(['token', '--refresh'], { HTTPS_PROXY: proxy.url });
    expect(result.code).toBe(3);
    expect(result.stderr.trim()).toBe(
      `The proxy http://127.0.0.1:${proxy.port} (set in HTTPS_PROXY) asks for a sign-in (HTTP 407 Proxy Authentication Required). ` +
        `Give Latchkey its credentials in the proxy URL: HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:${proxy.port} (percent-encode special characters; they are never logged).`,
    );
    // No retry loop against a 407: the proxy was asked once.
    const toProvider = proxy.log.slice(before).filter((entry) => entry.host === IDP_HOST);
    expect(toProvider).toEqual([expect.objectContaining({ method: 'CONNECT', user: '', status: 407 })]);
    expect(await storedEntry()).toBe(stored);
    expect((await cli(['status'], { HTTPS_PROXY: proxy.url })).code).toBe(0);

    const wrong = await cli(['token', '--refresh'], { HTTPS_PROXY: `http://${APP_USER}:not-it@127.0.0.1:${proxy.port}` });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/refused the user name and password given for it \(HTTP 407/);
    expect(wrong.stderr).not.toContain('not-it');
  });

  it('in a long-running session (the app), a 407 is shown and not retried: the session stays signed in, not offline', async () => {
    const config = loadConfig({ env: env() });
    const http = createHttpClient({ env: env({ HTTPS_PROXY: proxy.url }), caFile: config.caFile });
    // Timers that only record: an offline session would schedule its backoff retry here.
    const scheduled: number[] = [];
    const timers = { setTimeout: (_callback: () => void, ms: number) => scheduled.push(ms), clearTimeout: () => {} };
    const session = await createAuthSession({ config, opener: browserOpener(browser), http, timers, logger: createLogger({ level: 'silent' }) });
    const before = proxy.log.length;
    try {
      // The shared access token needs no network; the refresh after a 401 meets the proxy.
      await expect(session.refreshAccessToken(await session.getAccessToken())).rejects.toMatchObject({ code: 'proxy_auth_required' });
      expect(session.getState()).toMatchObject({ status: 'signed-in', error: { code: 'proxy_auth_required' } });
      expect(scheduled).toEqual([]);
      expect(proxy.log.slice(before).filter((entry) => entry.host === IDP_HOST)).toHaveLength(1);
    } finally {
      await session.close();
      await http.close();
    }
  });

  // The provider rotates the refresh token before the client refuses the ID token: the rotated one is stored first, so the session survives.
  it("a refresh whose ID token fails the time check on a computer 2 hours ahead says the clock may be wrong", async () => {
    const twoHoursAhead = `--import=data:text/javascript,${encodeURIComponent(`const now = Date.now; Date.now = () => now() + ${2 * 3600_000};`)}`;
    const result = await cli(['token', '--refresh'], { NODE_OPTIONS: twoHoursAhead });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/The provider's ID token was refused because its "exp" time does not fit this computer's clock, which may be wrong\./);
    expect(result.stderr).toMatch(/this computer's clock reads .*, (119 min 5\d s|120 min [0-9] s) ahead of the provider\. Set the date, time and time zone automatically/);
    // With the clock set right, the next refresh redeems the token stored before the check failed: no reuse, no sign-in.
    const fixed = await cli(['token', '--refresh']);
    expect(fixed.code, fixed.stderr).toBe(0);
  });
});
