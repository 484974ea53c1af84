import { BrowserWindow, nativeTheme } from 'electron';
import type { Rectangle, WebContents, WebPreferences } from 'electron';
import { APP_ENTRY_URL, isAppUrl } from './app-protocol.ts';

/**
 * Electron's security checklist, as webPreferences: the page gets no Node, runs
 * sandboxed in its own JavaScript world, keeps the same-origin policy and
 * cannot embed `<webview>`s. The preload is the only bridge.
 */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/**
 * Keeps a web contents on the app's own pages: navigations and redirects away
 * from `app://latchkey/` are cancelled, new windows are denied (links go to
 * `openLink`, which opens only the app's own), and `<webview>` cannot be
 * attached. Applied to every web contents the app creates.
 */
export function hardenWebContents(contents: WebContents, openLink: (url: string) => void): void {
  const keepOnApp = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => keepOnApp(event, event.url));
  contents.on('will-frame-navigate', (event) => keepOnApp(event, event.url));
  contents.on('will-redirect', (event) => keepOnApp(event, event.url));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openLink(url);
    return { action: 'deny' };
  });
}

/** The main window, showing the app page once it has painted (no white flash in the dark theme). */
export function createMainWindow(options: { preloadPath: string; bounds?: Partial<Rectangle> }): BrowserWindow {
  const window = new BrowserWindow({
    width: 520,
    height: 640,
    minWidth: 380,
    minHeight: 480,
    ...options.bounds,
    show: false,
    title: 'Latchkey',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#f6f7f9',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(options.preloadPath),
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

/** Brings a window to the front, restoring it if minimized (after sign-in, on a second launch). */
export function bringToFront(window: BrowserWindow): void {
  if (window.isDestroyed()) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
