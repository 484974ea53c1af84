// The app's log file (electron mocked): src/main/index.ts against the Electron
// stand-in, with the real core, keychain, demo provider and Chromium. A
// sign-in must leave its events in <logs>/main.log, and no token, code or
// verifier; Help → Open Logs Folder opens that folder.
import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keychainAccount, openKeychain } from '../../src/core/index.ts';
import { createAppLogger, logUncaughtErrors, MAX_LOG_BYTES } from '../../src/main/log-file.ts';
import { DEMO_CLIENT_ID } from '../../src/shared/constants.ts';
import type { IpcResult } from '../../src/shared/ipc.ts';
import { browserOpener, DEMO_ALICE, launchBrowser } from '../../support/browser.ts';
import type { Browser } from '../../support/browser.ts';
import { forgetDemoSession, startTestDemo, stubAppEnvForDemo } from '../helpers/demo.ts';

const { electronMock: electron, electronModule, electronStoreModule, findMenuItem, invokeFromApp } = await vi.hoisted(() => import('../helpers/electron-mock.ts'));
vi.mock('electron', () => electronModule());
vi.mock('electron-store', () => electronStoreModule());

const invoke = async (channel: string, ...args: unknown[]) => (await invokeFromApp(channel, ...args)) as IpcResult<unknown>;

let workDir: string;
let demo: Awaited<ReturnType<typeof startTestDemo>>;
let browser: Browser;
const keychainService = `dev.latchkey.test.log-file.${process.pid}.${Date.now()}`;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-log-file-'));
  electron.state.paths = { userData: join(workDir, 'userData'), logs: join(workDir, 'logs') };
  [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 30 }), launchBrowser()]);
  // stderr stays quiet; the file still records info and above.
  stubAppEnvForDemo(demo, keychainService);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  if (demo) await forgetDemoSession(demo, keychainService);
  await browser?.close();
  await demo?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the app’s log file (electron mocked)', () => {
  it('exists after a sign-in, contains the sign-in’s events and no token, with the real provider', async () => {
    const uncaughtBefore = process.listenerCount('uncaughtException');
    await import('../../src/main/index.ts');
    await expect.poll(() => electron.state.windows.length, { timeout: 20_000 }).toBe(1);
    expect(electron.state.errors).toEqual([]);
    expect(process.listenerCount('uncaughtException')).toBe(uncaughtBefore + 1);
    expect(electron.module.app.setAppLogsPath).toHaveBeenCalled();

    const login = invoke('auth:sign-in');
    await expect.poll(() => electron.state.opened.length, { timeout: 20_000 }).toBe(1);
    const opener = browserOpener(browser, DEMO_ALICE);
    await opener(electron.state.opened[0] as string);
    expect(await login).toMatchObject({ ok: true, value: { status: 'signed-in' } });
    await opener.close();
    const accessToken = (await invoke('auth:get-access-token')) as { ok: true; value: string };
    const refreshed = (await invoke('auth:refresh-access-token', accessToken.value)) as { ok: true; value: string };
    const stored = JSON.parse((await (await openKeychain(keychainService)).get(keychainAccount({ clientId: DEMO_CLIENT_ID, issuer: `${demo.issuer}/` })))!) as { refresh_token: string };

    const file = join(workDir, 'logs', 'main.log');
    const log = await readFile(file, 'utf8');
    for (const event of ['Latchkey starting', 'using the demo provider already running', 'sign-in started', 'sign-in completed', 'signed in', 'access token refreshed']) {
      expect(log).toContain(` info ${event}`);
    }
    for (const secret of [accessToken.value, refreshed.value, stored.refresh_token]) expect(log).not.toContain(secret);
    // No JWT (ID or access token) and no authorization code, PKCE verifier or token parameter in the clear.
    expect(log).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(log).not.toMatch(/\b(code|code_verifier|refresh_token|access_token|id_token)=(?!\[)/);
    expect((await stat(file)).mode & 0o077).toBe(0);

    electron.module.app.emit('before-quit', { preventDefault: vi.fn() });
    await expect.poll(() => electron.module.app.quit.mock.calls.length).toBe(1);
  });

  it('Help → Open Logs Folder opens the OS logs folder', () => {
    const item = findMenuItem('open-logs-folder');
    expect(item?.label).toBe('Open Logs Folder');
    item?.click?.();
    expect(electron.state.openedPaths).toEqual([join(workDir, 'logs')]);
    expect(electron.state.menu?.find((menu) => menu.role === 'help')?.submenu).toContain(item);
  });
});

describe('logging in the main process', () => {
  it('writes an uncaught exception and an unhandled rejection to the log file', async () => {
    const logs = join(workDir, 'uncaught');
    const { logger, filePath } = createAppLogger(logs, { LATCHKEY_LOG_LEVEL: 'silent' });
    const target = new EventEmitter();
    const stop = logUncaughtErrors(target as NodeJS.Process, logger);
    target.emit('uncaughtException', Object.assign(new Error('boom in main'), { code: 'EBOOM' }));
    target.emit('unhandledRejection', new Error('nobody awaited this'));
    stop();
    target.emit('uncaughtException', new Error('after stop'));
    const log = await readFile(filePath, 'utf8');
    expect(log).toMatch(/ error uncaught exception in the main process \{"error":"Error: boom in main","code":"EBOOM","stack":\[/);
    expect(log).toContain('unhandled promise rejection in the main process {"error":"Error: nobody awaited this"');
    expect(log).not.toContain('after stop');
  });

  it('redacts a token that reaches a log line through text the caller does not control', async () => {
    const { logger, filePath } = createAppLogger(join(workDir, 'redaction'), { LATCHKEY_LOG_LEVEL: 'silent' });
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    logger.warn('request failed', { error: `GET https://idp.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=x failed; token ${jwt}` });
    const log = await readFile(filePath, 'utf8');
    expect(log).toContain('request failed');
    expect(log).not.toContain('SplxlOBeZQQYbYS6WxSbIA');
    expect(log).not.toContain(jwt);
    expect(log).toMatch(/code=\[[0-9a-f]{6}\]&state=x/);
    expect(log).toMatch(/\[jwt [0-9a-f]{6}\]/);
  });

  it('rotates the file at 1 MiB, keeping the previous one as main.old.log', async () => {
    const logs = join(workDir, 'rotation');
    const { logger, filePath } = createAppLogger(logs, { LATCHKEY_LOG_LEVEL: 'silent' });
    const line = 'x'.repeat(1000);
    for (let i = 0; i < Math.ceil((MAX_LOG_BYTES * 1.5) / line.length); i += 1) logger.info('filler', { i, line });
    expect((await readdir(logs)).sort()).toEqual(['main.log', 'main.old.log']);
    expect((await stat(filePath)).size).toBeLessThan(MAX_LOG_BYTES);
    expect((await stat(join(logs, 'main.old.log'))).size).toBeGreaterThan(MAX_LOG_BYTES);
  });
});
