// Window security (electron mocked): Electron cannot run here, so
// BrowserWindow and web contents are recording stand-ins; what is asserted is
// what the shell asks of them. The app:// handler runs for real on a temp folder.
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const created = vi.hoisted(() => ({ windows: [] as Array<{ options: Record<string, unknown>; loaded: string[] }> }));

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  class BrowserWindow extends EventEmitter {
    readonly options: Record<string, unknown>;
    readonly loaded: string[] = [];
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      created.windows.push(this);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
  }
  return { BrowserWindow, nativeTheme: { shouldUseDarkColors: false } };
});

const { createMainWindow, hardenWebContents, secureWebPreferences } = await import('../../../src/main/window/window.ts');
const { denyAllPermissions } = await import('../../../src/main/window/permissions.ts');
const { buildContentSecurityPolicy, createAppProtocolHandler, resolveAppFile } = await import('../../../src/main/window/app-protocol.ts');
const { createExternalLinkOpener, createProviderOpener, isAllowedExternalLink, isProviderPageUrl } = await import('../../../src/main/window/external-links.ts');

type Listener = (...args: unknown[]) => void;

function fakeWebContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((details: { url: string }) => { action: string }) | undefined;
  const contents = {
    on: (event: string, listener: Listener) => {
      listeners.set(event, listener);
      return contents;
    },
    setWindowOpenHandler: (handler: typeof openHandler) => {
      openHandler = handler;
    },
  };
  const navigate = (event: string, url: string) => {
    const navigation = { url, preventDefault: vi.fn() };
    listeners.get(event)?.(navigation, url);
    return navigation.preventDefault.mock.calls.length > 0;
  };
  const open = (url: string) => openHandler!({ url });
  return { contents, listeners, navigate, open };
}

describe('window security (electron mocked)', () => {
  it('creates the window with the security checklist webPreferences and loads the app origin', () => {
    const window = createMainWindow({ preloadPath: '/app/out/preload/index.cjs' }) as unknown as { options: { webPreferences: Record<string, unknown> } };
    expect(window.options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(created.windows.at(-1)?.loaded).toEqual(['app://latchkey/index.html']);
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toEqual(window.options.webPreferences);
  });

  it('keeps navigation and redirects on the app origin', () => {
    const { contents, navigate } = fakeWebContents();
    hardenWebContents(contents as never, () => undefined);
    expect(navigate('will-navigate', 'https://evil.example/phish')).toBe(true);
    expect(navigate('will-navigate', 'http://127.0.0.1:4400/auth')).toBe(true);
    expect(navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigate('will-redirect', 'https://evil.example/')).toBe(true);
    expect(navigate('will-frame-navigate', 'https://evil.example/')).toBe(true);
    expect(navigate('will-navigate', 'app://latchkey/index.html')).toBe(false);
    expect(navigate('will-attach-webview', 'app://latchkey/index.html')).toBe(true);
  });

  it('denies every new window, opening only the app’s allow-listed links in the system browser and logging the rest', async () => {
    const { contents, open } = fakeWebContents();
    const openExternal = vi.fn(async () => undefined);
    const logger = { warn: vi.fn() };
    const allowList = ['https://account.example.com/', 'https://api.example.com/docs'];
    hardenWebContents(contents as never, createExternalLinkOpener({ allowList: () => allowList, openExternal, logger }));
    const refused = [
      'https://evil.example/phish',
      'https://api.example.com/other',
      'https://api.example.com/docsevil',
      'https://account.example.com.evil.example/',
      'https://user:pass@account.example.com/',
      'http://account.example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://latchkey/index.html',
      'smb://host/share',
    ];
    const allowed = ['https://account.example.com/', 'https://account.example.com/profile?tab=security', 'https://api.example.com/docs', 'https://api.example.com/docs/tokens#refresh'];
    for (const url of [...refused, ...allowed]) expect(open(url)).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(openExternal.mock.calls).toEqual(allowed.map((url) => [url]));
    expect(logger.warn).toHaveBeenCalledTimes(refused.length);
    expect(logger.warn).toHaveBeenCalledWith('refused to open a link that is not on the app’s allow-list', { origin: 'https://evil.example' });
  });

  it('with no allow-list configured, the window cannot open any link', () => {
    expect(['https://example.com/', 'https://accounts.google.com/'].some((url) => isAllowedExternalLink(url, []))).toBe(false);
  });

  it('denies permission requests and checks', () => {
    const recorded: { request?: Listener; check?: (...args: unknown[]) => boolean; device?: (...args: unknown[]) => boolean } = {};
    denyAllPermissions({
      setPermissionRequestHandler: (handler: Listener) => void (recorded.request = handler),
      setPermissionCheckHandler: (handler: (...args: unknown[]) => boolean) => void (recorded.check = handler),
      setDevicePermissionHandler: (handler: (...args: unknown[]) => boolean) => void (recorded.device = handler),
    } as never);
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      const callback = vi.fn();
      recorded.request!({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect(recorded.check!({}, permission, 'app://latchkey', {})).toBe(false);
    }
    expect(recorded.device!({})).toBe(false);
  });

  it('hands the system browser only https pages, or http ones on this machine, from the auth core', async () => {
    const openExternal = vi.fn(async () => undefined);
    const opener = createProviderOpener(openExternal);
    await opener('https://tenant.auth0.com/authorize?client_id=x');
    // Providers may serve their pages from another host than the issuer's (Cognito's hosted UI).
    await opener('https://example.auth.eu-west-1.amazoncognito.com/oauth2/authorize?client_id=x');
    await opener('http://127.0.0.1:4400/session/end');
    for (const refused of ['file:///etc/passwd', 'http://tenant.example/authorize', 'smb://host/share', 'javascript:alert(1)', 'https://user:pass@tenant.auth0.com/', 'not a url']) {
      await expect(opener(refused)).rejects.toThrow(/neither https nor on this machine/);
    }
    expect(openExternal.mock.calls).toEqual([
      ['https://tenant.auth0.com/authorize?client_id=x'],
      ['https://example.auth.eu-west-1.amazoncognito.com/oauth2/authorize?client_id=x'],
      ['http://127.0.0.1:4400/session/end'],
    ]);
    expect(isProviderPageUrl('http://localhost:4400/auth')).toBe(true);
    expect(isProviderPageUrl('http://192.168.1.10/auth')).toBe(false);
  });
});

describe('app:// protocol handler', () => {
  let root: string;
  let outside: string;
  const csp = buildContentSecurityPolicy(['http://127.0.0.1:4401']);
  const get = (url: string, method = 'GET') => createAppProtocolHandler({ rootDir: join(root, 'renderer'), csp })(new Request(url, { method }));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'latchkey-protocol-'));
    outside = join(root, 'secret.txt');
    await mkdir(join(root, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>Latchkey</title>');
    await writeFile(join(root, 'renderer', 'assets', 'index.js'), 'console.log(1)');
    await writeFile(join(root, 'renderer', 'assets', 'index.css'), 'body{}');
    await writeFile(join(root, 'renderer', 'notes.txt'), 'unknown type');
    await writeFile(outside, 'TOP SECRET');
    await symlink(outside, join(root, 'renderer', 'assets', 'link.js'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lets the page connect to every configured API\'s origin and nothing else', () => {
    const connectSrc = (urls: string[]) => /connect-src ([^;]*)/.exec(buildContentSecurityPolicy(urls))?.[1];
    expect(connectSrc(['https://api.example.com/v1/', 'https://files.example.com/', 'https://api.example.com/other/'])).toBe('https://api.example.com https://files.example.com');
    expect(connectSrc([])).toBe("'none'");
  });

  it('lets images come only from the app itself and data: — no image address can carry a token out of the page', () => {
    const imgSrc = /img-src ([^;]*)/.exec(buildContentSecurityPolicy(['https://api.example.com/']))?.[1];
    expect(imgSrc).toBe("'self' data:");
  });

  it('serves the built files with their MIME type and the CSP on every response', async () => {
    const page = await get('app://latchkey/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src http://127.0.0.1:4401; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>Latchkey</title>');
    expect((await get('app://latchkey/')).status).toBe(200);
    expect((await get('app://latchkey/assets/index.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('app://latchkey/assets/index.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await get('app://latchkey/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(csp);
  });

  it.each([
    'app://latchkey/..%2fsecret.txt',
    'app://latchkey/assets/..%2f..%2fsecret.txt',
    'app://latchkey/%2e%2e/secret.txt',
    'app://latchkey/..%5csecret.txt',
    'app://latchkey/assets%2f..%2f..%2fsecret.txt',
    'app://latchkey/index.html%00.js',
    'app://latchkey/assets/link.js',
    'app://other/index.html',
    'app://latchkey/notes.txt',
  ])('refuses %s', async (url) => {
    const response = await get(url);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('TOP SECRET');
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await get('app://latchkey/index.html', 'POST')).status).toBe(405);
  });

  it('resolves only files inside the root', () => {
    expect(resolveAppFile('/srv/r', 'app://latchkey/a/b.js')).toBe('/srv/r/a/b.js');
    expect(resolveAppFile('/srv/r', 'app://latchkey/a/..%2f..%2fx')).toBeUndefined();
    expect(resolveAppFile('/srv/r', 'https://latchkey/index.html')).toBeUndefined();
  });
});
