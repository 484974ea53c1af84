// A recording stand-in for the parts of Electron the shell's entry uses, for
// tests that import src/main/index.ts (electron mocked). Use it from a test as
//   const { electronMock, electronModule } = await vi.hoisted(() => import('../helpers/electron-mock.ts'));
//   vi.mock('electron', () => electronModule());
// and read/steer `electronMock.state` from the test.
import { vi } from 'vitest';

type Listener = (...args: unknown[]) => void;

function emitter() {
  const listeners = new Map<string, Listener[]>();
  return {
    on(event: string, listener: Listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return this;
    },
    once(event: string, listener: Listener) {
      return this.on(event, listener);
    },
    off(event: string, listener: Listener) {
      listeners.set(event, (listeners.get(event) ?? []).filter((l) => l !== listener));
      return this;
    },
    emit(event: string, ...args: unknown[]) {
      for (const listener of listeners.get(event) ?? []) listener(...args);
    },
    listenerCount: (event: string) => (listeners.get(event) ?? []).length,
  };
}

export interface MenuItem {
  id?: string;
  label?: string;
  role?: string;
  submenu?: MenuItem[];
  click?: () => void;
}

const state = {
  singleInstance: true,
  isPackaged: false,
  paths: { userData: '', logs: '' } as Record<string, string>,
  windows: [] as Array<ReturnType<typeof makeWindow>>,
  handlers: new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>(),
  opened: [] as string[],
  openedPaths: [] as string[],
  clipboard: [] as string[],
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  errors: [] as string[],
  menu: undefined as MenuItem[] | undefined,
};

function makeWindow(options: Record<string, unknown>) {
  const window = {
    ...emitter(),
    options,
    sent: [] as Array<[string, unknown]>,
    focused: 0,
    webContents: { send: (channel: string, payload: unknown) => void window.sent.push([channel, payload]) },
    isDestroyed: () => false,
    isMinimized: () => false,
    isFullScreen: () => false,
    restore: () => undefined,
    show: () => undefined,
    focus: () => void (window.focused += 1),
    loadURL: async () => undefined,
    getNormalBounds: () => ({ x: 1, y: 2, width: 520, height: 640 }),
  };
  state.windows.push(window);
  return window;
}

const app = {
  ...emitter(),
  get isPackaged() {
    return state.isPackaged;
  },
  requestSingleInstanceLock: () => state.singleInstance,
  whenReady: vi.fn(() => Promise.resolve()),
  getPath: (name: string) => state.paths[name] ?? '',
  setAppLogsPath: vi.fn(),
  enableSandbox: vi.fn(),
  quit: vi.fn(),
  exit: vi.fn(),
};

const module = {
  app,
  protocol: { registerSchemesAsPrivileged: vi.fn() },
  session: {
    defaultSession: {
      protocol: { handle: (scheme: string, handler: (request: Request) => Promise<Response>) => void state.protocolHandlers.set(scheme, handler) },
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
    },
  },
  ipcMain: {
    handle: (channel: string, listener: (event: unknown, ...args: unknown[]) => Promise<unknown>) => void state.handlers.set(channel, listener),
    removeHandler: (channel: string) => void state.handlers.delete(channel),
  },
  BrowserWindow: Object.assign(function BrowserWindow(options: Record<string, unknown>) {
    return makeWindow(options);
  }, { getAllWindows: () => state.windows }),
  Menu: {
    buildFromTemplate: (template: MenuItem[]) => template,
    setApplicationMenu: (menu: MenuItem[]) => void (state.menu = menu),
  },
  shell: {
    openExternal: async (url: string) => void state.opened.push(url),
    openPath: async (path: string) => {
      state.openedPaths.push(path);
      return '';
    },
  },
  clipboard: { writeText: (text: string) => void state.clipboard.push(text) },
  dialog: { showErrorBox: (_title: string, message: string) => void state.errors.push(message) },
  net: { isOnline: () => true },
  powerMonitor: emitter(),
  screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  nativeTheme: { shouldUseDarkColors: false },
};

export const electronMock = { state, module, emitter };

/** Forgets the windows, handlers, menus and calls a previous import of the shell left behind. */
export function resetElectronMock(): void {
  state.windows.length = 0;
  state.handlers.clear();
  state.protocolHandlers.clear();
  state.opened.length = 0;
  state.clipboard.length = 0;
  state.openedPaths.length = 0;
  state.errors.length = 0;
  state.menu = undefined;
  for (const fn of [app.whenReady, app.quit, app.exit]) fn.mockClear();
}

/** The module `vi.mock('electron', …)` should return. */
export function electronModule() {
  return { ...module, default: module };
}

/** electron-store needs Electron; the window-bounds store gets this in-memory stand-in. */
export function electronStoreModule() {
  return {
    default: class {
      private readonly values = new Map<string, unknown>();
      get(key: string) {
        return this.values.get(key);
      }
      set(key: string, value: unknown) {
        this.values.set(key, value);
      }
    },
  };
}

/** Calls an IPC handler the way the app's own top frame would. */
export async function invokeFromApp(channel: string, ...args: unknown[]): Promise<unknown> {
  const handler = state.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  return handler({ senderFrame: { url: 'app://latchkey/index.html', parent: null } }, ...args);
}

/** Finds a menu item by id anywhere in the application menu. */
export function findMenuItem(id: string, items: MenuItem[] = state.menu ?? []): MenuItem | undefined {
  for (const item of items) {
    if (item.id === id) return item;
    const found = findMenuItem(id, item.submenu ?? []);
    if (found) return found;
  }
  return undefined;
}
