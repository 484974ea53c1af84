// A packaged app (electron mocked, app.isPackaged = true): src/main/index.ts
// with the build's settings as electron.vite.config.ts embeds them, against
// the real demo provider standing in for the build's provider. What the
// environment or the data folder's config.json say must not matter, and with
// no provider in the build the app refuses to start instead of using the demo.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../src/shared/constants.ts';
import type { IpcResult } from '../../src/shared/ipc.ts';
import { startTestDemo } from '../helpers/demo.ts';

const { electronMock: electron, electronModule, electronStoreModule, invokeFromApp, resetElectronMock } = await vi.hoisted(() => import('../helpers/electron-mock.ts'));
vi.mock('electron', () => electronModule());
vi.mock('electron-store', () => electronStoreModule());

let workDir: string;
let demo: Awaited<ReturnType<typeof startTestDemo>>;
let squatter: Server;
const squatterRequests: string[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-packaged-'));
  demo = await startTestDemo();
  // Something on the demo port that answers like the demo: a packaged app must never even ask it.
  squatter = createServer((request, response) => {
    squatterRequests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const squatterPort = (squatter.address() as AddressInfo).port;

  electron.state.isPackaged = true;
  electron.state.paths = { userData: join(workDir, 'userData'), logs: join(workDir, 'logs') };
  await mkdir(electron.state.paths.userData!, { recursive: true });
  // A user-writable file and variables that try to re-point the app's tokens.
  await writeFile(join(electron.state.paths.userData!, 'config.json'), JSON.stringify({ apiBaseUrl: 'https://evil.example', issuer: 'https://evil.example', clientId: 'evil' }));
  vi.stubEnv('AUTH_ISSUER', 'https://evil.example');
  vi.stubEnv('AUTH_CLIENT_ID', 'evil');
  vi.stubEnv('API_BASE_URL', 'https://evil.example');
  vi.stubEnv('AUTH_DATA_DIR', join(workDir, 'elsewhere'));
  vi.stubEnv('DEMO_IDP_PORT', String(squatterPort));
  vi.stubEnv('LATCHKEY_LOG_LEVEL', 'silent');
});

afterEach(() => {
  vi.unstubAllGlobals();
  resetElectronMock();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  electron.state.isPackaged = false;
  await new Promise((resolve) => squatter?.close(resolve));
  await demo?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('a packaged app (electron mocked)', () => {
  it('uses the build’s provider and API, whatever the environment and the data folder’s config.json say', async () => {
    vi.stubGlobal('__LATCHKEY_BUILD_SETTINGS__', { issuer: demo.issuer, clientId: DEMO_CLIENT_ID, audience: DEMO_AUDIENCE, apiBaseUrl: demo.apiUrl });
    vi.resetModules();
    await import('../../src/main/index.ts');
    await expect.poll(() => electron.state.windows.length, { timeout: 20_000 }).toBe(1);
    expect(electron.state.errors).toEqual([]);
    expect((await invokeFromApp('app:get-config')) as IpcResult<unknown>).toEqual({ ok: true, value: { issuer: `${demo.issuer}/`, apiBaseUrl: `${demo.apiUrl}/`, apis: [{ name: 'api', baseUrl: `${demo.apiUrl}/` }] } });
    const page = await electron.state.protocolHandlers.get('app')!(new Request('app://latchkey/index.html'));
    expect(page.headers.get('content-security-policy')).toContain(`connect-src ${demo.apiUrl}`);
    expect(page.headers.get('content-security-policy')).not.toContain('evil');
    expect(squatterRequests).toEqual([]);
    electron.module.app.emit('before-quit', { preventDefault: vi.fn() });
    // The quit waits for the session still opening (the keychain read), then closes it.
    await expect.poll(() => electron.module.app.quit.mock.calls.length, { timeout: 10_000 }).toBe(1);
  });

  it('with no provider in the build, refuses to start with a message naming latchkey.config.json, and never touches the demo port', async () => {
    vi.resetModules();
    await import('../../src/main/index.ts');
    await expect.poll(() => electron.module.app.exit.mock.calls.length, { timeout: 20_000 }).toBe(1);
    expect(electron.module.app.exit).toHaveBeenCalledWith(1);
    expect(electron.state.errors).toEqual([expect.stringMatching(/^latchkey\.config\.json: no sign-in provider is configured for this build, and a packaged app never uses the demo provider/)]);
    expect(electron.state.windows).toEqual([]);
    expect(squatterRequests).toEqual([]);
  });
});
