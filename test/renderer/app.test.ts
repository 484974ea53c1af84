// The built renderer in real Chromium, wired to the real main-process IPC
// handlers and the real auth core, against the demo provider and API.
//
// Only Electron itself is replaced: the page is served over http with the same
// protocol handler and CSP as app://latchkey/, and a test bridge stands in for
// the preload — built from the preload's own bridge module — forwarding
// window.auth / window.app calls to `registerIpcHandlers` with a sender frame
// of the app's URL. The "system browser" is a second Chromium page that fills
// in the provider's real sign-in form.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import type { Rolldown } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendererConfig } from '../../electron.vite.config.ts';
import { createLogger, loadConfig, startAccountSessions, startAuthSession } from '../../src/core/index.ts';
import type { AccountSessions, AuthConfig } from '../../src/core/index.ts';
import { buildContentSecurityPolicy, createAppProtocolHandler } from '../../src/main/window/app-protocol.ts';
import { registerIpcHandlers } from '../../src/main/ipc-handlers.ts';
import type { IpcInvokeEventLike, IpcMainLike } from '../../src/main/ipc-handlers.ts';
import type { AuthApi, InvokeChannel } from '../../src/shared/ipc.ts';
import { browserOpener, DEMO_ALICE, DEMO_BOB, launchBrowser } from '../../support/browser.ts';
import { DEMO_ACR_TWO_STEP, DEMO_AUDIENCE, DEMO_FILES_PATH, DEMO_FILES_RESOURCE, DEMO_STEP_UP_MAX_AGE } from '../../src/shared/constants.ts';
import { enterDeviceCode } from '../../support/device-approval.ts';
import type { Browser, Page } from '../../support/browser.ts';
import { demoEnv, startTestDemo } from '../helpers/demo.ts';
import { startPrivateKeyring, type PrivateKeyring } from '../helpers/private-keyring.ts';
import { HOSTILE_DESCRIPTION, HOSTILE_NAME } from '../helpers/hostile-provider.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
const ACCESS_TOKEN_TTL_S = 2;
const APP_FRAME = { url: 'app://latchkey/index.html', parent: null };

let workDir: string;
let browser: Browser;
let page: Page;
let demo: Awaited<ReturnType<typeof startTestDemo>>;
let session: AccountSessions;
let config: AuthConfig;
let pageServer: Server;
let pageUrl: string;
let bridgeScript: string;
/** Linux: a gnome-keyring of this file's own, so it can be locked without pulling the keychain from under other test files. */
let keyring: PrivateKeyring | undefined;
let wireSession: (next: AccountSessions, withConfig?: AuthConfig) => void;
/** The window's session as main starts it (every account, acting for the default), once it has read the stored one. */
async function windowSession(withConfig: AuthConfig = config): Promise<AccountSessions> {
  const started = startAccountSessions({ config: withConfig, opener: (url) => openWith(url), clock, logger: createLogger({ level: 'silent' }) });
  await started.whenStarted();
  return started;
}
const endSessionOpened: string[] = [];
/** What "Copy" put on the clipboard (Electron's clipboard in the app). */
const copied: string[] = [];
const apiStatuses: number[] = [];
/** The credentials each API call from the page carried: its Authorization scheme, and whether a DPoP proof came with it. */
const apiCredentials: { scheme: string; proof: boolean; nonce: boolean }[] = [];

/** The core's clock. From the browser sign-in on it stands still, so the core keeps handing out a token the API already considers expired: the API's 401 is then what triggers the refresh. */
let frozenAt: number | undefined;
const clock = () => frozenAt ?? Date.now();

/** What the core's opener does: nothing at first (a sign-in left pending), then the Chromium "system browser". */
let openWith: (url: string) => Promise<void>;
const parkedUrls: string[] = [];

async function listen(server: Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

async function buildRenderer(outDir: string): Promise<void> {
  await build({ ...rendererConfig, configFile: false, logLevel: 'warn', build: { ...rendererConfig.build, outDir } });
}

/** The preload's bridge module as a classic script defining `LatchkeyBridge`, to run where the preload would. */
async function buildBridge(): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    build: { write: false, minify: false, lib: { entry: join(ROOT, 'src/preload/bridge.ts'), formats: ['iife'], name: 'LatchkeyBridge' } },
  });
  const [output] = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const chunk = output?.output.find((item) => item.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('the bridge did not build');
  return `${chunk.code}
;(() => {
  const listeners = new Set();
  const invoke = LatchkeyBridge.createInvoke((channel, ...args) => window.__latchkeyInvoke(channel, args));
  const subscribe = (listener) => { listeners.add(listener); return () => { listeners.delete(listener); }; };
  Object.defineProperty(window, '__latchkeyEmit', { value: (state) => { for (const listener of listeners) listener(state); } });
  Object.defineProperty(window, 'auth', { value: Object.freeze(LatchkeyBridge.createAuthApi(invoke, subscribe)) });
  Object.defineProperty(window, 'app', { value: Object.freeze(LatchkeyBridge.createAppApi(invoke)) });
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
})();`;
}

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain: IpcMainLike = { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: (channel) => void handlers.delete(channel) };
  const invoke = (channel: InvokeChannel, args: unknown[]) => {
    const handler = handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return handler({ senderFrame: APP_FRAME }, ...args);
  };
  return { ipcMain, invoke };
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

/** The page's globals as the test bridge defines them (this file is typechecked without the DOM library). */
interface PageGlobals {
  auth: AuthApi;
  __latchkeyEmit(state: unknown): void;
  __cspViolations: string[];
  ipcRenderer?: unknown;
}

const visible = (selector: string) => page.locator(selector).waitFor({ state: 'visible', timeout: 20_000 });

beforeAll(async () => {
  if (process.platform === 'linux') {
    keyring = await startPrivateKeyring();
    // Before keytar first connects: libsecret reads the session bus address once.
    Object.assign(process.env, keyring.env);
  }
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-renderer-'));
  const outDir = join(workDir, 'renderer');
  await Promise.all([mkdir(SCREENSHOTS, { recursive: true }), buildRenderer(outDir)]);
  bridgeScript = await buildBridge();

  // The page's origin must be known before the API is told which origin may call it (CORS).
  const site: { serve?: (request: Request) => Promise<Response> } = {};
  pageServer = createServer((req, res) => {
    void (async () => {
      const response = site.serve ? await site.serve(new Request(`app://latchkey${req.url ?? '/'}`, { method: req.method ?? 'GET' })) : new Response(null, { status: 503 });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })();
  });
  pageUrl = `http://127.0.0.1:${await listen(pageServer)}`;

  // DPoP with nonces demanded by the provider and the API: the window answers the API's use_dpop_nonce (read through CORS) once.
  [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, allowedOrigins: [pageUrl], dpop: 'nonce' }), launchBrowser()]);

  config = loadConfig({
    env: {
      ...demoEnv(demo),
      AUTH_KEYCHAIN_SERVICE: `dev.latchkey.test.renderer.${process.pid}.${Date.now()}`,
    },
    dataDir: join(workDir, 'data'),
  });
  site.serve = createAppProtocolHandler({ rootDir: outDir, csp: buildContentSecurityPolicy(config.apis.map((api) => api.baseUrl)) });

  openWith = async (url) => void parkedUrls.push(url);
  const ipc = fakeIpcMain();
  let unwire = () => {};
  // main's wiring of a session: its IPC handlers, and its state changes broadcast to the page (webContents.send in the app).
  wireSession = (next, withConfig = config) => {
    unwire();
    session = next;
    const unregister = registerIpcHandlers(ipc.ipcMain, { session, config: withConfig, openEndSession: async (url) => void endSessionOpened.push(url), copyText: (text) => void copied.push(text) });
    const unsubscribe = session.onStateChange((state) => {
      void page?.evaluate((next) => (globalThis as unknown as PageGlobals).__latchkeyEmit(next), state).catch(() => undefined);
    });
    unwire = () => {
      unregister();
      unsubscribe();
    };
  };
  wireSession(await windowSession());

  const context = await browser.newContext({ viewport: { width: 520, height: 640 }, colorScheme: 'light' });
  page = await context.newPage();
  await page.exposeFunction('__latchkeyInvoke', (channel: InvokeChannel, args: unknown[]) => ipc.invoke(channel, args));
  await page.addInitScript({ content: bridgeScript });
  page.on('request', (request) => {
    if (request.url() !== `${config.apiBaseUrl.replace(/\/$/, '')}/me` || request.method() !== 'GET') return;
    const headers = request.headers();
    const proof = typeof headers.dpop === 'string' && headers.dpop.split('.').length === 3 ? (JSON.parse(Buffer.from(headers.dpop.split('.')[1] as string, 'base64url').toString()) as { nonce?: string }) : undefined;
    apiCredentials.push({ scheme: (headers.authorization ?? '').split(' ')[0] ?? '', proof: proof !== undefined, nonce: typeof proof?.nonce === 'string' });
  });
  page.on('response', (response) => {
    if (response.url() === `${config.apiBaseUrl.replace(/\/$/, '')}/me` && response.request().method() === 'GET') apiStatuses.push(response.status());
  });
});

afterAll(async () => {
  await session?.close();
  await browser?.close();
  if (pageServer) await new Promise((done) => pageServer.close(done));
  await demo?.close();
  await keyring?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the built renderer in Chromium, on the real core and demo provider', () => {
  it('signs in through the browser, calls the API, recovers from a 401 with one refresh, and signs out', async () => {
    await page.goto(`${pageUrl}/index.html`);
    await visible('#view-signed-out');
    expect(await page.locator('#sign-in').textContent()).toBe('Sign in');
    // Keyboard first: Tab reaches "Sign in" and shows where focus is.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe('sign-in');
    expect(await page.locator('#sign-in').evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }).getComputedStyle(element).outlineStyle)).toBe('solid');
    await screenshot('signed-out');

    // Sign in with Enter, and leave the browser step pending: the page waits for it.
    await page.keyboard.press('Enter');
    await visible('#view-signing-in');
    // Focus follows the new content rather than falling back to the page.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id)).toBe('signing-in-title');
    expect(await page.locator('#signing-in-title').textContent()).toBe('Finish signing in in your browser');
    expect(await page.locator('#announcer').textContent()).toBe('Finish signing in in your browser.');
    await expect.poll(() => parkedUrls.length).toBe(1);
    await screenshot('signing-in');

    // "Open the sign-in page again": the core drops the pending attempt and opens a fresh one, which the browser completes.
    const opener = browserOpener(browser, DEMO_ALICE);
    openWith = opener;
    // From here the core's clock stands still: whatever token it gets, it believes fresh.
    frozenAt = Date.now();
    await page.click('#reopen');
    await visible('#view-signed-in');
    expect(opener.lastError).toBeUndefined();
    expect(opener.urls).toHaveLength(1);
    expect(new URL(opener.urls[0] as string).origin).toBe(new URL(config.issuer).origin);
    expect(new URL(opener.urls[0] as string).searchParams.get('state')).not.toBe(new URL(parkedUrls[0] as string).searchParams.get('state'));
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect(await page.locator('#user-email').textContent()).toBe('alice@example.com');
    // The demo's picture, handed over by main as a data: URL (the only images the CSP allows besides the app's own).
    await expect.poll(() => page.locator('#avatar').isVisible()).toBe(true);
    expect(await page.locator('#avatar').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(await page.locator('#token-line').textContent()).toMatch(/^Access token refreshed \d\d:\d\d:\d\d, expires \d\d:\d\d:\d\d · bound to this computer \(DPoP\)$/);
    expect(await page.locator('#announcer').textContent()).toBe('Signed in as Alice Liddell.');
    await screenshot('signed-in');

    await page.click('#call-api');
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');
    const body = JSON.parse((await page.locator('#api-body').textContent()) as string) as { sub: string; claims: { exp: number; cnf?: { jkt?: string } } };
    expect(body.sub).toBe('alice');
    // The demo binds tokens (DPoP under auto): the page sent the bound token with a proof main made for that one call.
    expect(body.claims.cnf?.jkt).toEqual(expect.any(String));
    expect(apiCredentials.at(-1)).toEqual({ scheme: 'DPoP', proof: true, nonce: true });
    // The first proof had no nonce; the API's 401 asked for one, and the page sent the call once more with it.
    expect(apiCredentials[0]).toEqual({ scheme: 'DPoP', proof: true, nonce: false });
    expect(apiStatuses[0]).toBe(401);
    await screenshot('api-result');
    const refreshesBefore = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;

    // Let the access token expire for the API (real time), then call again: 401 → refreshAccessToken → 200.
    // (On a loaded machine the token may already have expired for that first call; then it took the same 401 path.)
    await expect.poll(() => apiStatuses.at(-1)).toBe(200);
    const callsBefore = apiStatuses.length;
    await new Promise((done) => setTimeout(done, Math.max(0, body.claims.exp * 1000 - Date.now()) + 300));
    await page.click('#call-api');
    await expect.poll(() => apiStatuses.slice(callsBefore)).toEqual([401, 200]);
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');
    expect(demo.stats.tokenRequestsByGrant.refresh_token ?? 0).toBe(refreshesBefore + 1);
    expect(JSON.parse((await page.locator('#api-body').textContent()) as string)).toMatchObject({ sub: 'alice' });
    await screenshot('api-result-after-refresh');

    // The provider goes away: the session is kept and the page says so.
    frozenAt = undefined;
    demo.failTokenEndpoint('unavailable');
    await page.click('#call-api');
    await visible('#offline-banner');
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect(await page.locator('#api-status').textContent()).toBe('Error');
    expect(await page.locator('#api-error').textContent()).toMatch(/could not be reached/);
    expect(session.getState().status).toBe('offline');
    await screenshot('offline');

    // It comes back; main's resume/network handler calls retryNow().
    demo.failTokenEndpoint(null);
    await session.retryNow();
    await page.locator('#offline-banner').waitFor({ state: 'hidden' });
    expect(session.getState().status).toBe('signed-in');
    await page.click('#call-api');
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');

    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot('signed-in-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.click('#sign-out');
    await visible('#view-signed-out');
    expect(await page.locator('#signed-out-error').isHidden()).toBe(true);
    expect(session.getState().status).toBe('signed-out');
    // The state event can beat the sign-out call's answer; the end-session page is opened when signOut returns.
    await expect.poll(() => endSessionOpened.length).toBe(1);
    expect(new URL(endSessionOpened[0] as string).origin).toBe(new URL(config.issuer).origin);

    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__cspViolations)).toEqual([]);
    await opener.close();
  });

  it('while the app opens the stored session, shows "Waiting for your keychain…" when an unlock prompt is open, and no sign-in', async () => {
    // States as main broadcasts them from its stand-in session before the keychain answers.
    await page.evaluate((next) => (globalThis as unknown as PageGlobals).__latchkeyEmit(next), { status: 'starting' });
    await visible('#view-loading');
    expect(await page.locator('#loading-text').textContent()).toBe('Loading…');
    await page.evaluate((next) => (globalThis as unknown as PageGlobals).__latchkeyEmit(next), { status: 'starting', keychainWaiting: true });
    await expect.poll(() => page.locator('#loading-text').textContent()).toBe('Waiting for your keychain…');
    expect(await page.locator('#view-signed-out').isHidden()).toBe(true);
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    await screenshot('waiting-for-keychain');
    await page.evaluate(async () => {
      const globals = globalThis as unknown as PageGlobals;
      globals.__latchkeyEmit(await globals.auth.getState());
    });
    await visible('#view-signed-out');
  });

  it('tells the user when the session lives in memory only', async () => {
    // A state as main broadcasts it when the keychain is unavailable (the core's memory-only fallback).
    const state = { status: 'signed-in', keychain: 'memory-only', user: { sub: 'bob', name: 'Bob Builder', email: 'bob@example.com' } };
    await page.evaluate((next) => (globalThis as unknown as PageGlobals).__latchkeyEmit(next), state);
    await visible('#memory-banner');
    expect(await page.locator('#memory-banner').textContent()).toMatch(/memory only.*sign in again after restarting/s);
    expect(await page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect(await page.locator('#initials').textContent()).toBe('BB');
    expect(await page.locator('#api-result').isHidden()).toBe(true);
    await screenshot('memory-only');
    await page.evaluate(async () => {
      const globals = globalThis as unknown as PageGlobals;
      globals.__latchkeyEmit(await globals.auth.getState());
    });
    await visible('#view-signed-out');
  });

  it('shows a provider’s display name and error description inert: no escape, control, bidi or separator character reaches the page’s text', async () => {
    const emit = (next: unknown) => page.evaluate((value) => (globalThis as unknown as PageGlobals).__latchkeyEmit(value), next);
    const active = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
    await emit({ status: 'signed-in', keychain: 'os', user: { sub: 'mallory-1', name: HOSTILE_NAME, email: `mallory\u202e@example.com` } });
    await visible('#view-signed-in');
    const name = (await page.locator('#user-name').textContent()) ?? '';
    expect(name).not.toMatch(active);
    expect(name).toBe('Mallory A\\u001b]0;pwned\\u0007B\\u001b[2J\\u001b]8;;https://evil.example/\\u0007click\\u001b]8;;\\u0007\\u009b31m\\u009d0;c1\\u0007\\u0085\\u007f\\u202eexe.gnp\\u2028Z');
    expect(await page.locator('#user-email').textContent()).toBe('mallory\\u202e@example.com');
    expect(await page.locator('#announcer').textContent()).not.toMatch(active);
    await screenshot('hostile-provider-name');
    // As the core words a refused refresh, and also the provider's words as they came (the page does not rely on the core).
    for (const message of [`Your session ended: invalid_grant — ${HOSTILE_DESCRIPTION}. Sign in again.`, HOSTILE_DESCRIPTION]) {
      await emit({ status: 'signed-out', keychain: 'os', error: { code: 'session_ended', message } });
      await visible('#view-signed-out');
      const shown = (await page.locator('#signed-out-error').textContent()) ?? '';
      expect(shown).not.toMatch(active);
      expect(shown).toContain('The grant was revoked A\\u001b]0;pwned\\u0007B');
      expect(await page.locator('#announcer').textContent()).not.toMatch(active);
      // What a person sees (laid out): no character of the provider's reorders or hides the text.
      expect(await page.locator('#signed-out-error').innerText()).not.toMatch(active);
    }
    await screenshot('hostile-provider-text');
    await page.evaluate(async () => {
      const globals = globalThis as unknown as PageGlobals;
      globals.__latchkeyEmit(await globals.auth.getState());
    });
    await visible('#view-signed-out');
  });

  it.skipIf(process.platform !== 'linux')('a restart with the keychain locked shows the locked banner, keeps the session, and recovers on "Unlock and retry" (real gnome-keyring)', async () => {
    openWith = browserOpener(browser, DEMO_ALICE);
    await page.goto(`${pageUrl}/index.html`);
    await visible('#view-signed-out');
    await page.click('#sign-in');
    await visible('#view-signed-in');
    const signIns = demo.stats.tokenRequestsByGrant.authorization_code ?? 0;

    // The keyring is locked (a screen lock, a keyring manager); the app starts again.
    await keyring?.lock();
    await session.close();
    wireSession(await windowSession());
    await page.reload();
    await visible('#locked-banner');
    expect(await page.locator('#locked-title').textContent()).toBe('Your keychain is locked');
    expect(await page.locator('#unlock-retry').textContent()).toBe('Unlock and retry');
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    // Not signed out, not in memory only, and no sign-in (or sign-out) offered over a session that still exists.
    expect(await page.locator('#view-signed-out').isHidden()).toBe(true);
    expect(await page.locator('#memory-banner').isHidden()).toBe(true);
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    expect(await page.locator('#sign-out').isVisible()).toBe(false);
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'locked', error: { code: 'keychain_locked' } });
    await screenshot('keychain-locked');

    // No display here: the unlock prompt cannot open, so a retry finds the keychain still locked.
    await page.click('#unlock-retry');
    await expect.poll(() => page.locator('#unlock-retry').isEnabled()).toBe(true);
    expect(await page.locator('#locked-banner').isVisible()).toBe(true);

    await keyring?.unlock();
    await page.click('#unlock-retry');
    await page.locator('#locked-banner').waitFor({ state: 'hidden' });
    expect(session.getState()).toMatchObject({ status: 'signed-in', keychain: 'os' });
    expect(session.getState().error).toBeUndefined();
    await page.click('#call-api');
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');
    expect(demo.stats.tokenRequestsByGrant.authorization_code ?? 0).toBe(signIns);

    // Leave the window signed out, as the next test starts it.
    await page.click('#sign-out');
    await visible('#view-signed-out');
  });

  it('signs in with a code: the code large, the address, a QR code, Copy, a countdown and Cancel; offers it when no browser opens', async () => {
    const emit = (next: unknown) => page.evaluate((value) => (globalThis as unknown as PageGlobals).__latchkeyEmit(value), next);
    await visible('#sign-in-code');
    expect(await page.locator('#code-offer').isHidden()).toBe(true);
    await screenshot('signed-out-with-code');

    await page.click('#sign-in-code');
    await visible('#view-device-code');
    await expect.poll(() => page.locator('#device-user-code').textContent()).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const firstCode = (await page.locator('#device-user-code').textContent()) as string;
    expect(session.getState().deviceCode?.userCode).toBe(firstCode);
    expect(await page.locator('#device-address').textContent()).toBe(`${demo.issuer}/device`);
    // The site apart from the path, in an element of its own.
    expect(await page.locator('#device-host').textContent()).toBe(new URL(demo.issuer).host);
    expect(await page.locator('#device-host').isVisible()).toBe(true);
    expect(await page.locator('#device-who').textContent()).toBe(`Latchkey (client ${config.clientId}) asked ${config.issuer} for this code. Enter it only if you started this sign-in yourself.`);
    expect(await page.locator('#device-countdown').textContent()).toMatch(/^The code expires in (10:00|9:[0-5]\d)\.$/);
    // The QR code is a data: image the CSP lets through, and it loaded.
    expect(await page.locator('#device-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,/);
    expect(await page.locator('#device-qr').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot('device-code');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot('device-code-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.click('#copy-code');
    await expect.poll(() => page.locator('#copy-code').textContent()).toBe('Copied');
    expect(copied).toEqual([firstCode]);

    // Cancel: back to signed out, and the core holds no code any more.
    await page.click('#cancel-code');
    await visible('#view-signed-out');
    expect(session.getState().status).toBe('signed-out');
    expect(session.getState().deviceCode).toBeUndefined();

    // A code that expired while shown (as main would broadcast it at that moment).
    await emit({ status: 'signing-in', deviceCode: { userCode: 'WDJB-MJHT', verificationUri: `${demo.issuer}/device`, verificationHost: new URL(demo.issuer).host, expiresAt: Date.now() - 1000, issuer: config.issuer, clientId: config.clientId } });
    await visible('#view-device-code');
    await expect.poll(() => page.locator('#device-countdown').textContent()).toBe('The code has expired. Cancel and sign in again for a new one.');
    expect(await page.locator('#copy-code').isDisabled()).toBe(true);
    await screenshot('device-code-expired');
    await emit(session.getState());
    await visible('#view-signed-out');

    // Declined at the provider: back to signed out, saying so.
    await page.click('#sign-in-code');
    await expect.poll(() => session.getState().deviceCode?.userCode).toBeTruthy();
    const declined = session.getState().deviceCode!;
    await enterDeviceCode(browser, declined.verificationUri, declined.userCode, { answer: 'abort' });
    await visible('#view-signed-out');
    await expect.poll(() => page.locator('#signed-out-error').textContent()).toBe(`The sign-in with code ${declined.userCode} was declined at ${new URL(demo.issuer).host}. If that was not you, nothing more is needed; otherwise sign in again.`);
    await screenshot('device-code-declined');

    // No browser can be opened: the window says so and offers the code as the main way in.
    openWith = () => Promise.reject(new Error('xdg-open: no method available for opening the page'));
    await page.click('#sign-in');
    await visible('#code-offer');
    expect(await page.locator('#signed-out-error').textContent()).toContain('The browser could not be opened (xdg-open: no method available for opening the page)');
    expect(await page.locator('#sign-in-code').getAttribute('class')).toBe('primary');
    await screenshot('browser-unavailable-code-offer');

    // Entered and approved on "another device": signed in, the same session as a browser sign-in's.
    await page.click('#sign-in-code');
    await expect.poll(() => session.getState().deviceCode?.userCode).toBeTruthy();
    const approved = session.getState().deviceCode!;
    expect(approved.userCode).not.toBe(firstCode);
    await enterDeviceCode(browser, approved.verificationUri, approved.userCode);
    await visible('#view-signed-in');
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    await page.click('#call-api');
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');
    await page.click('#sign-out');
    await visible('#view-signed-out');
    expect(await page.locator('#code-offer').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__cspViolations)).toEqual([]);
  });

  it('refuses what the page must not do: ipcRenderer is not there, inline scripts are blocked by the CSP', async () => {
    expect(await page.evaluate(() => typeof (globalThis as unknown as PageGlobals).ipcRenderer)).toBe('undefined');
    expect(await page.evaluate(() => Object.keys((globalThis as unknown as PageGlobals).auth).sort())).toEqual([
      'addAccount',
      'cancelSignIn',
      'copyUserCode',
      'deviceSignIn',
      'getAccessToken',
      'getState',
      'offersDeviceSignIn',
      'onStateChange',
      'profilePicture',
      'refreshAccessToken',
      'requestHeaders',
      'retryKeychain',
      'signIn',
      'signOut',
      'signOutAll',
      'stepUp',
      'switchAccount',
    ]);
    // An image address is no way out for a token: only the app's own images and data: load.
    const leaked = await page.evaluate(`(async () => {
      const image = document.createElement('img');
      const loaded = new Promise((done) => { image.onload = () => done('loaded'); image.onerror = () => done('blocked'); });
      image.src = 'https://127.0.0.1:9/leak.png?token=stolen';
      document.body.append(image);
      const outcome = await loaded;
      image.remove();
      return outcome;
    })()`);
    expect(leaked).toBe('blocked');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__cspViolations)).toEqual(['img-src https://127.0.0.1:9/leak.png?token=stolen']);
    await page.evaluate(() => void ((globalThis as unknown as PageGlobals).__cspViolations.length = 0));
    const ran = await page.evaluate(`(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
      await new Promise((done) => setTimeout(done, 50));
      return window.__inlineRan === true;
    })()`);
    expect(ran).toBe(false);
    const error = await page.evaluate(() => (globalThis as unknown as PageGlobals).auth.refreshAccessToken('').catch((e: { code: string }) => e.code));
    expect(error).toBe('invalid_argument');
  });

  it('an action that needs a stronger sign-in (RFC 9470): the window says why, the browser sign-in carries acr_values and max_age, and the call is sent once more and succeeds', async () => {
    openWith = browserOpener(browser, DEMO_ALICE);
    await page.click('#sign-in');
    await visible('#view-signed-in');
    // The step-up's browser waits until the test has read the window's words.
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stepUpUrls: string[] = [];
    const alice = browserOpener(browser, DEMO_ALICE);
    openWith = async (url) => {
      stepUpUrls.push(url);
      await gate;
      await alice(url);
    };
    await page.click('#call-strong');
    await expect.poll(() => page.locator('#api-error').textContent()).toMatch(/^This action needs you to sign in again: This action needs the two-step sign-in \(password and one-time code\)\. Your browser opens for it/);
    await expect.poll(() => stepUpUrls.length).toBe(1);
    const asked = new URL(stepUpUrls[0]!).searchParams;
    expect(asked.get('acr_values')).toBe(DEMO_ACR_TWO_STEP);
    expect(asked.get('max_age')).toBe(String(DEMO_STEP_UP_MAX_AGE));
    await screenshot('step-up-asked');
    release();
    await expect.poll(() => page.locator('#api-status').textContent(), { timeout: 30_000 }).toBe('200 OK');
    const body = JSON.parse((await page.locator('#api-body').textContent()) as string) as { sub: string; claims: { acr?: string } };
    expect(body).toMatchObject({ sub: 'alice', claims: { acr: DEMO_ACR_TWO_STEP } });
    expect(alice.lastError).toBeUndefined();
    await alice.close();
    await page.click('#sign-out');
    await visible('#view-signed-out');
  });

  it('several accounts: the avatar menu lists them (one added elsewhere shows up), switches, adds, signs out of one; the page’s calls act for the shown account', async () => {
    const subOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const pageToken = () => page.evaluate(() => (globalThis as unknown as PageGlobals).auth.getAccessToken());
    frozenAt = undefined;
    openWith = browserOpener(browser, DEMO_ALICE);
    await page.click('#sign-in');
    await visible('#view-signed-in');
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');

    // Bob signs in elsewhere (a terminal's session, as `latchkey login` has): the window lists him within a second or two.
    const terminal = startAuthSession({ config, opener: browserOpener(browser, DEMO_BOB), logger: createLogger({ level: 'silent' }) });
    await terminal.whenStarted();
    await terminal.signIn({ adding: true });
    await terminal.close();
    await expect.poll(() => page.locator('#account-list .account-item').count(), { timeout: 10_000 }).toBe(2);
    // The window still acts for Alice: a new default elsewhere does not move it.
    expect(await page.locator('#user-name').textContent()).toBe('Alice Liddell');
    expect(subOf(await pageToken())).toBe('alice');

    await page.click('#account-button');
    await visible('#account-menu');
    expect(await page.locator('#account-button').getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('#account-list .account-item-name').allTextContents()).toEqual(['Alice Liddell', 'Bob Builder']);
    expect(await page.locator('#account-list .account-item-email').allTextContents()).toEqual(['alice@example.com', 'bob@example.com']);
    expect(await page.locator('#account-list .account-item[aria-checked="true"]').getAttribute('data-account')).toBe('alice@example.com');
    expect(await page.locator('#account-list .account-item img.avatar').count()).toBe(2);
    await screenshot('accounts-menu');

    // Switch: the window, and every call the page makes, are Bob's now.
    await page.click('#account-list .account-item[data-account="bob@example.com"]');
    await expect.poll(() => page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect(await page.locator('#account-menu').isHidden()).toBe(true);
    expect(subOf(await pageToken())).toBe('bob');
    expect(await page.locator('#api-result').isHidden()).toBe(true);
    await page.click('#call-api');
    await visible('#api-result');
    await expect.poll(() => page.locator('#api-status').textContent()).toBe('200 OK');
    expect(JSON.parse((await page.locator('#api-body').textContent())!)).toMatchObject({ sub: 'bob' });
    const headers = await page.evaluate((url) => (globalThis as unknown as PageGlobals).auth.requestHeaders({ method: 'GET', url }), `${demo.apiUrl}/me`);
    expect(subOf(headers.Authorization.split(' ')[1]!)).toBe('bob');
    await screenshot('accounts-switched');

    // Add: the system browser opens with the provider's account chooser (the generic preset: prompt=login).
    parkedUrls.length = 0;
    openWith = async (url) => void parkedUrls.push(url);
    await page.click('#account-button');
    await page.click('#add-account');
    await visible('#view-signing-in');
    await expect.poll(() => parkedUrls.length).toBe(1);
    expect(new URL(parkedUrls[0]!).searchParams.get('prompt')?.split(' ')).toContain('login');
    await screenshot('accounts-add');
    await page.click('#cancel');
    await visible('#view-signed-in');
    expect(await page.locator('#user-name').textContent()).toBe('Bob Builder');
    // Completed: whoever signed in is the window's account (the demo has two users: Alice's is renewed).
    openWith = browserOpener(browser, DEMO_ALICE);
    await page.click('#account-button');
    await page.click('#add-account');
    await expect.poll(() => page.locator('#user-name').textContent(), { timeout: 20_000 }).toBe('Alice Liddell');
    expect(subOf(await pageToken())).toBe('alice');

    // Sign out of this one: Alice only; the window moves to Bob, still signed in.
    await page.click('#account-button');
    expect(await page.locator('#sign-out-one').textContent()).toBe('Sign out of alice@example.com');
    await page.click('#sign-out-one');
    await expect.poll(() => page.locator('#user-name').textContent()).toBe('Bob Builder');
    expect(await page.locator('#account-list .account-item').count()).toBe(1);
    expect(subOf(await pageToken())).toBe('bob');
    await page.click('#account-button');
    await visible('#account-menu');
    await screenshot('accounts-signed-out-one');
    await page.keyboard.press('Escape');
    expect(await page.locator('#account-menu').isHidden()).toBe(true);

    // Sign out of all (shown with two or more): back to one, so the plain sign-out ends it.
    expect(await page.locator('#sign-out-all').isHidden()).toBe(true);
    await page.click('#sign-out');
    await visible('#view-signed-out');
    expect(session.getState().accounts).toEqual([]);
  }, 120_000);

  it('two APIs from one sign-in: the window calls each with its own token (the right aud), and each call carries only its API\'s', async () => {
    const twoApis: AuthConfig = {
      ...config,
      keychainService: `${config.keychainService}.apis`,
      apis: [config.apis[0]!, { name: 'files', baseUrl: `${demo.apiUrl}${DEMO_FILES_PATH}`, resource: DEMO_FILES_RESOURCE }],
    };
    const first = session;
    wireSession(await windowSession(twoApis), twoApis);
    try {
      await page.reload();
      await visible('#view-signed-out');
      openWith = browserOpener(browser, DEMO_ALICE);
      await page.click('#sign-in');
      await visible('#view-signed-in');
      expect(await page.locator('#call-second-api').textContent()).toBe('Call files');
      const audienceShown = async () => (JSON.parse((await page.locator('#api-body').textContent()) as string) as { claims: { aud?: string } }).claims.aud;
      await page.click('#call-second-api');
      await expect.poll(() => page.locator('#api-status').textContent(), { timeout: 20_000 }).toBe('200 OK');
      expect(await audienceShown()).toBe(DEMO_FILES_RESOURCE);
      await page.click('#call-api');
      await expect.poll(async () => (await page.locator('#api-status').textContent()) === '200 OK' && (await audienceShown()) === DEMO_AUDIENCE, { timeout: 20_000 }).toBe(true);
      await screenshot('two-apis');
      await page.click('#sign-out');
      await visible('#view-signed-out');
    } finally {
      await session.close();
      wireSession(first);
      await page.reload();
    }
  });

  it('a sign-out the provider could not be told about says so in the window, and promises no retry (the provider is down; last, it stops the demo)', async () => {
    const opener = browserOpener(browser, DEMO_ALICE);
    openWith = opener;
    await page.click('#sign-in');
    await visible('#view-signed-in');
    await opener.close();
    await demo.close();
    await page.click('#sign-out');
    await visible('#view-signed-out');
    await expect.poll(() => page.locator('#signed-out-error').textContent()).toBe('Signed out on this computer only: the provider could not be reached to revoke the session. It stays valid at the provider until it expires.');
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'provider_unreachable' } });
    await screenshot('signed-out-provider-not-told');
  });
});
