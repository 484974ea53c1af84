// The Electron shell's entry: lifecycle only. It wires the auth core
// (src/core) to Electron — the opener, IPC, windows, menu, logs, power and
// network events — and holds no auth logic of its own.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BrowserWindow, Menu, app, clipboard, dialog, ipcMain, net, powerMonitor, protocol, screen, session as electronSession, shell } from 'electron';
import { createHttpClient, createProfilePictures, loadConfig, startAccountSessions, toErrorInfo, trustSettingsOf } from '../core/index.ts';
import type { AccountSessions, HttpClient, Logger } from '../core/index.ts';
import type { DemoServers } from '../demo/index.ts';
import { STATE_CHANGED_CHANNEL } from '../shared/ipc.ts';
import type { AuthState } from '../shared/auth-state.ts';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, buildContentSecurityPolicy, createAppProtocolHandler } from './window/app-protocol.ts';
import { appMenuTemplate } from './window/app-menu.ts';
import { BUILD_SETTINGS } from './build-info.ts';
import { retryWhenReachable } from './network/connectivity.ts';
import { startDevelopmentDemo } from './dev-demo/demo.ts';
import { createExternalLinkOpener, createProviderOpener, isProviderPageUrl } from './window/external-links.ts';
import { redactedForWindow, registerIpcHandlers } from './ipc-handlers.ts';
import { createAppLogger, logUncaughtErrors } from './log-file.ts';
import { denyAllPermissions } from './window/permissions.ts';
import { openWindowBoundsStore } from './window/window-bounds-store.ts';
import { systemProxyResolver } from './network/system-proxy.ts';
import type { WindowBoundsStore } from './window/window-bounds-store.ts';
import { clampToDisplays } from './window/window-bounds.ts';
import { bringToFront, createMainWindow, hardenWebContents } from './window/window.ts';

const OUT_DIR = join(import.meta.dirname, '..');
const PRELOAD_PATH = join(OUT_DIR, 'preload', 'index.cjs');
const RENDERER_DIR = join(OUT_DIR, 'renderer');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
app.enableSandbox();

// The OS's logs folder for this app (~/Library/Logs/Latchkey, <userData>/logs elsewhere), set before anything logs.
app.setAppLogsPath();
const { logger } = createAppLogger(app.getPath('logs'));
logUncaughtErrors(process, logger);

const openExternal = (url: string) => shell.openExternal(url);
/** The links the window may open: the build's `externalLinks`, known once the configuration is read. */
let externalLinks: readonly string[] = [];
const openLink = createExternalLinkOpener({ allowList: () => externalLinks, openExternal, logger });
app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, openLink));

if (!app.requestSingleInstanceLock()) {
  // Another Latchkey is running; it receives 'second-instance' and comes to the front.
  app.quit();
} else {
  app.whenReady().then(() => start(logger)).catch((error: unknown) => fail(logger, error));
}

interface Running {
  session: AccountSessions;
  http: HttpClient;
  demo?: DemoServers;
  stop: Array<() => void>;
}

async function start(logger: Logger): Promise<void> {
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate({ platform: process.platform, openLogsFolder: () => openLogsFolder(logger) })));
  const config = loadConfig({ dataDir: app.getPath('userData'), build: BUILD_SETTINGS, packaged: app.isPackaged });
  externalLinks = config.externalLinks ?? [];
  logger.info('Latchkey starting', { issuer: config.issuer, clientId: config.clientId, packaged: app.isPackaged, demo: config.usesDemoProvider });

  const demo = await startDevelopmentDemo(config, { isPackaged: app.isPackaged, logger });

  const webSession = electronSession.defaultSession;
  denyAllPermissions(webSession);
  webSession.protocol.handle(APP_SCHEME, createAppProtocolHandler({ rootDir: RENDERER_DIR, csp: buildContentSecurityPolicy(config.apis.map((api) => api.baseUrl)) }));

  // The provider is reached the way the OS says (settings, PAC, WPAD) unless proxy variables are set.
  const http = createHttpClient({ resolveProxy: systemProxyResolver(webSession), ...trustSettingsOf(config) });
  // The session exists at once, `starting`: reading the stored session may wait on a keychain unlock prompt,
  // which the window shows ("Waiting for your keychain…") while calls made meanwhile wait. It acts for the
  // default account, and for another one the person switches to in the window's account menu.
  const session = startAccountSessions({ config, opener: createProviderOpener(openExternal), logger, http });
  const running: Running = { session, http, stop: [], ...(demo ? { demo } : {}) };
  shutDownOnQuit(running, logger);
  running.stop.push(
    registerIpcHandlers(ipcMain, {
      session,
      config,
      logger,
      copyText: (text) => clipboard.writeText(text),
      profilePicture: createProfilePictures({ http, logger }),
      openEndSession: async (url) => {
        if (isProviderPageUrl(url)) await openExternal(url);
        else logger.warn('refused to open an end-session URL that is neither https nor on this machine');
      },
    }),
  );

  let previous: AuthState['status'] = session.getState().status;
  running.stop.push(
    session.onStateChange((state) => {
      for (const window of BrowserWindow.getAllWindows()) {
        if (!window.isDestroyed()) window.webContents.send(STATE_CHANGED_CHANNEL, redactedForWindow(state));
      }
      // The user just finished in the browser: bring them back to the app.
      if (previous === 'signing-in' && state.status === 'signed-in') focusMainWindow();
      previous = state.status;
    }),
  );

  const boundsStore = openWindowBoundsStore(config.dataDir);
  openMainWindow(boundsStore);

  running.stop.push(
    retryWhenReachable(
      session,
      {
        onResume: (listener) => {
          powerMonitor.on('resume', listener);
          return () => powerMonitor.off('resume', listener);
        },
        isOnline: () => net.isOnline(),
      },
      { onError: (error) => logger.warn('retry after resume/network failed', { error: toErrorInfo(error).code }) },
    ),
  );

  app.on('second-instance', () => focusMainWindow());
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openMainWindow(boundsStore);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // A keychain that cannot be opened at all fails the start, as any other start-up error does.
  await session.whenStarted();
}

function openLogsFolder(logger: Logger): void {
  void shell.openPath(app.getPath('logs')).then((problem) => {
    if (problem) logger.warn('could not open the logs folder', { problem });
  });
}

function openMainWindow(boundsStore: WindowBoundsStore): BrowserWindow {
  const saved = boundsStore.load();
  const bounds = saved ? clampToDisplays(saved, screen.getAllDisplays().map((display) => display.workArea)) : undefined;
  const window = createMainWindow({ preloadPath: PRELOAD_PATH, ...(bounds ? { bounds } : {}) });
  window.on('close', () => {
    if (!window.isMinimized() && !window.isFullScreen()) boundsStore.save(window.getNormalBounds());
  });
  return window;
}

function focusMainWindow(): void {
  const [window] = BrowserWindow.getAllWindows();
  if (window) bringToFront(window);
}

/** How long quitting waits for a refresh in flight to store its rotated refresh token. */
const QUIT_GRACE_MS = 5_000;

/**
 * On quit: cancel a pending sign-in (closing its loopback listener), close the
 * session — which lets a refresh in flight store its rotated token, for a few
 * seconds at most (RFC 9700 §4.14.2: quitting between the provider's answer and
 * the keychain write would lose it) — then the demo servers.
 */
function shutDownOnQuit(running: Running, logger: Logger): void {
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    closed = true;
    void (async () => {
      try {
        for (const stop of running.stop) stop();
        running.session.cancelSignIn();
        await Promise.race([running.session.close(), delay(QUIT_GRACE_MS, undefined, { ref: false })]);
        await running.http.close();
        await running.demo?.close();
      } catch (error) {
        logger.warn('shutdown was not clean', { error: toErrorInfo(error).message });
      } finally {
        app.quit();
      }
    })();
  });
}

function fail(logger: Logger, error: unknown): void {
  const { message } = toErrorInfo(error);
  logger.error('Latchkey could not start', { error: message });
  dialog.showErrorBox('Latchkey could not start', message);
  app.exit(1);
}
