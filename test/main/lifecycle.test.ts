// The shell's lifecycle (electron mocked): src/main/index.ts imported against
// a recording stand-in for Electron (and electron-store, which needs Electron),
// with the real auth core, keychain, demo provider and Chromium as the system
// browser. Asserts the wiring only main can do: single instance, demo reuse,
// state broadcast, focus after sign-in, cancel + close on quit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthState } from '../../src/shared/auth-state.ts';
import type { IpcResult } from '../../src/shared/ipc.ts';
import { STATE_CHANGED_CHANNEL } from '../../src/shared/ipc.ts';
import { browserOpener, DEMO_ALICE, launchBrowser } from '../../support/browser.ts';
import type { Browser } from '../../support/browser.ts';
import { forgetDemoSession, startTestDemo, stubAppEnvForDemo } from '../helpers/demo.ts';

// Imported in vi.hoisted so the mock factories close over this one instance, whatever vi.resetModules() does.
const { electronMock: electron, electronModule, electronStoreModule, invokeFromApp, resetElectronMock } = await vi.hoisted(() => import('../helpers/electron-mock.ts'));
vi.mock('electron', () => electronModule());
vi.mock('electron-store', () => electronStoreModule());

const invoke = async (channel: string, ...args: unknown[]) => (await invokeFromApp(channel, ...args)) as IpcResult<unknown>;

let workDir: string;
let demo: Awaited<ReturnType<typeof startTestDemo>>;
let browser: Browser;
const keychainService = `dev.latchkey.test.lifecycle.${process.pid}.${Date.now()}`;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-lifecycle-'));
  electron.state.paths = { userData: join(workDir, 'userData'), logs: join(workDir, 'logs') };
  [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 30 }), launchBrowser()]);
  // The app reuses the running demo only when it proves it holds the secret in its data folder.
  stubAppEnvForDemo(demo, keychainService);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  // The app quit signed in, as a user would: its keychain entry is left behind on purpose; remove it.
  if (demo) await forgetDemoSession(demo, keychainService);
  await browser?.close();
  await demo?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the shell lifecycle (electron mocked)', () => {
  it('a second instance quits at once and starts nothing', async () => {
    vi.resetModules();
    electron.state.singleInstance = false;
    await import('../../src/main/index.ts');
    expect(electron.module.app.quit).toHaveBeenCalledTimes(1);
    expect(electron.module.app.whenReady).not.toHaveBeenCalled();
    expect(electron.module.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    electron.module.app.quit.mockClear();
  });

  it('starts on the demo already running, broadcasts state, focuses after sign-in and on a second launch, and cancels and closes on quit', async () => {
    vi.resetModules();
    electron.state.singleInstance = true;
    await import('../../src/main/index.ts');
    await expect.poll(() => electron.state.windows.length, { timeout: 20_000 }).toBe(1);
    expect(electron.state.errors).toEqual([]);
    expect(electron.module.app.enableSandbox).toHaveBeenCalled();
    const [window] = electron.state.windows;
    expect(window?.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, preload: expect.stringMatching(/preload[/\\]index\.cjs$/) });
    expect(electron.state.protocolHandlers.has('app')).toBe(true);
    expect(electron.module.session.defaultSession.setPermissionRequestHandler).toHaveBeenCalled();
    expect(await invoke('app:get-config')).toEqual({ ok: true, value: { apiBaseUrl: demo.apiUrl, apis: [{ name: 'api', baseUrl: demo.apiUrl }], issuer: `${demo.issuer}/` } });

    // Sign in: main opens the provider page in the "system browser"; Chromium completes it.
    const login = invoke('auth:sign-in');
    await expect.poll(() => electron.state.opened.length, { timeout: 20_000 }).toBe(1);
    const opener = browserOpener(browser, DEMO_ALICE);
    await opener(electron.state.opened[0] as string);
    expect(await login).toMatchObject({ ok: true, value: { status: 'signed-in', user: { name: 'Alice Liddell' } } });
    expect(opener.lastError).toBeUndefined();
    const statuses = window!.sent.filter(([channel]) => channel === STATE_CHANGED_CHANNEL).map(([, state]) => (state as AuthState).status);
    expect(statuses).toEqual(expect.arrayContaining(['signing-in', 'signed-in']));
    expect(statuses.indexOf('signing-in')).toBeLessThan(statuses.lastIndexOf('signed-in'));
    expect(window!.focused).toBe(1);

    electron.module.app.emit('second-instance');
    expect(window!.focused).toBe(2);

    // A sign-in still pending when the app quits is cancelled, and the session closed.
    const pending = invoke('auth:sign-in');
    await expect.poll(() => electron.state.opened.length, { timeout: 20_000 }).toBe(2);
    const quitting = { preventDefault: vi.fn() };
    electron.module.app.emit('before-quit', quitting);
    expect(quitting.preventDefault).toHaveBeenCalled();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'sign_in_cancelled' } });
    await expect.poll(() => electron.module.app.quit.mock.calls.length).toBe(1);
    expect(electron.state.handlers.size).toBe(0);
    // The second quit goes through.
    const second = { preventDefault: vi.fn() };
    electron.module.app.emit('before-quit', second);
    expect(second.preventDefault).not.toHaveBeenCalled();
    await opener.close();
  });

  it('quitting while a refresh waits on the provider gives it a few seconds to store its token, then quits anyway', async () => {
    resetElectronMock();
    vi.resetModules();
    electron.state.singleInstance = true;
    await import('../../src/main/index.ts');
    await expect.poll(() => electron.state.windows.length, { timeout: 20_000 }).toBe(1);
    // Restored from the keychain: the session the previous test left signed in.
    const token = await invoke('auth:get-access-token');
    expect(token).toMatchObject({ ok: true });
    demo.failTokenEndpoint('hang');
    try {
      const requests = demo.stats.tokenRequests;
      void invoke('auth:refresh-access-token', (token as { value: string }).value);
      await expect.poll(() => demo.stats.tokenRequests).toBeGreaterThan(requests);
      const quitAt = performance.now();
      electron.module.app.emit('before-quit', { preventDefault: vi.fn() });
      await expect.poll(() => electron.module.app.quit.mock.calls.length, { timeout: 10_000, interval: 100 }).toBe(1);
      const waited = performance.now() - quitAt;
      expect(waited).toBeGreaterThan(4_500);
      expect(waited).toBeLessThan(8_000);
    } finally {
      demo.failTokenEndpoint(null);
    }
  }, 30_000);
});
