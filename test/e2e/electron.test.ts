// The packaged shape end to end: the real Electron app (built with
// electron-vite) driven by Playwright's _electron, against the demo provider,
// with Chromium as the system browser. Runs wherever the Electron binary is
// installed and a display is available; skipped otherwise, saying why.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'electron-vite';
import { _electron } from 'playwright-core';
import type { ElectronApplication, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthApi } from '../../src/shared/ipc.ts';
import { withoutNssWrapper } from '../../scripts/nss-wrapper.ts';
import { browserOpener, DEMO_ALICE, launchBrowser } from '../../support/browser.ts';
import type { Browser } from '../../support/browser.ts';
import { demoEnv, startTestDemo } from '../helpers/demo.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');

/** The Electron binary `npm ci` downloads (node_modules/electron/path.txt names it), if it is there. */
function electronBinary(): string | undefined {
  const dir = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

const executablePath = electronBinary();
const needsDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skipReason = !executablePath
  ? 'the Electron binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD); install it with `npx install-electron` to run this test'
  : needsDisplay
    ? 'no display; run under `xvfb-run -a npm test` to include this test'
    : undefined;

interface PageGlobals {
  auth: AuthApi;
  require?: unknown;
  process?: unknown;
  ipcRenderer?: unknown;
}

describe('the Electron app end to end (playwright _electron)', () => {
  let workDir: string;
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let app: ElectronApplication;
  let window: Page;

  beforeAll(async () => {
    if (skipReason) return;
    workDir = await mkdtemp(join(tmpdir(), 'latchkey-e2e-'));
    await Promise.all([mkdir(SCREENSHOTS, { recursive: true }), build({ root: ROOT, configFile: join(ROOT, 'electron.vite.config.ts'), logLevel: 'warn' })]);
    // The app finds this demo already answering on its configured ports and uses it (like `npm run idp`).
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 2 }), launchBrowser()]);
    app = await _electron.launch({
      executablePath: executablePath as string,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), ROOT],
      // Without with-keyring.ts's nss_wrapper (scripts/nss-wrapper.ts says why): the app's lock folder is then the user's own.
      env: {
        ...withoutNssWrapper(),
        AUTH_DATA_DIR: join(workDir, 'data'),
        AUTH_KEYCHAIN_SERVICE: `dev.latchkey.test.e2e.${process.pid}`,
        ...demoEnv(demo),
      },
    });
    // The system browser: record what the app asks the OS to open; Chromium then does what a person would.
    await app.evaluate(({ shell }) => {
      const opened: string[] = [];
      (globalThis as unknown as { __opened: string[] }).__opened = opened;
      shell.openExternal = async (url: string) => void opened.push(url);
    });
    window = await app.firstWindow();
  });

  afterAll(async () => {
    await app?.close();
    await browser?.close();
    await demo?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const opened = () => app.evaluate(() => [...(globalThis as unknown as { __opened: string[] }).__opened]);
  const visible = (selector: string) => window.locator(selector).waitFor({ state: 'visible', timeout: 20_000 });

  it('signs in through the system browser, calls the API across a refresh, and signs out', async (context) => {
    if (skipReason) return context.skip(skipReason);

    await visible('#view-signed-out');
    await window.screenshot({ path: join(SCREENSHOTS, 'electron-signed-out.png') });

    // The page has the bridge and nothing else of Node or Electron.
    expect(await window.evaluate(() => {
      const globals = globalThis as unknown as PageGlobals;
      return [typeof globals.require, typeof globals.process, typeof globals.ipcRenderer, Object.keys(globals.auth).length];
    })).toEqual(['undefined', 'undefined', 'undefined', 7]);
    // Errors keep their code across contextBridge.
    expect(await window.evaluate(() => (globalThis as unknown as PageGlobals).auth.refreshAccessToken('').catch((error: { code?: string }) => error.code))).toBe('invalid_argument');

    await window.click('#sign-in');
    await visible('#view-signing-in');
    await expect.poll(opened, { timeout: 20_000 }).toHaveLength(1);
    const [authorizationUrl] = await opened();
    expect(new URL(authorizationUrl as string).origin).toBe(new URL(demo.issuer).origin);
    const opener = browserOpener(browser, DEMO_ALICE);
    await opener(authorizationUrl as string);
    await visible('#view-signed-in');
    expect(opener.lastError).toBeUndefined();
    expect(await window.locator('#user-name').textContent()).toBe('Alice Liddell');
    await window.screenshot({ path: join(SCREENSHOTS, 'electron-signed-in.png') });

    await window.click('#call-api');
    await expect.poll(() => window.locator('#api-status').textContent()).toBe('200 OK');
    const body = JSON.parse((await window.locator('#api-body').textContent()) as string) as { sub: string; claims: { exp: number } };
    expect(body.sub).toBe('alice');
    const refreshesBefore = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;

    await new Promise((done) => setTimeout(done, Math.max(0, body.claims.exp * 1000 - Date.now()) + 300));
    await window.click('#call-api');
    await expect.poll(() => window.locator('#api-status').textContent()).toBe('200 OK');
    expect(demo.stats.tokenRequestsByGrant.refresh_token ?? 0).toBe(refreshesBefore + 1);
    await window.screenshot({ path: join(SCREENSHOTS, 'electron-api-result.png') });

    await window.click('#sign-out');
    await visible('#view-signed-out');
    const afterLogout = await opened();
    expect(afterLogout).toHaveLength(2);
    expect(new URL(afterLogout[1] as string).origin).toBe(new URL(demo.issuer).origin);
    await opener.close();
  });
});
