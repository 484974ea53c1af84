// The IPC contract between the renderer and the main process.
//
// One type, `AuthApi`/`AppApi`, maps every call to its signature; the preload,
// the main-process handlers and the renderer all derive their types from it, so
// a channel cannot be added on one side only. Types and constants only: this
// module must stay importable from the renderer, the preload and plain Node.

export type AuthStatus = 'signed-out' | 'signing-in' | 'signed-in' | 'offline';

export interface UserProfile {
  sub: string;
  name?: string;
  email?: string;
  picture?: string;
}

/** How an error crosses IPC: a stable code to switch on and a sentence for the user. */
export interface ErrorInfo {
  code: string;
  message: string;
}

export interface AuthState {
  status: AuthStatus;
  user?: UserProfile;
  error?: ErrorInfo;
  /** Where the refresh token lives: the OS keychain, or memory only (lost on restart). */
  keychain?: 'os' | 'memory-only';
  /** When the current access token was obtained and when it expires (epoch ms). Never the token itself. */
  accessToken?: { refreshedAt: number; expiresAt?: number };
}

export interface AuthApi {
  getState(): Promise<AuthState>;
  /** Opens the system browser; resolves when signed in. A second call cancels the pending attempt and starts anew. */
  login(): Promise<AuthState>;
  cancelLogin(): Promise<void>;
  logout(): Promise<AuthState>;
  /** A valid access token, refreshed in main if needed. */
  getAccessToken(): Promise<string>;
  /** After the API answered 401 for `rejectedToken`: a newer token, refreshing at most once however many callers ask. */
  refreshAccessToken(rejectedToken: string): Promise<string>;
  /** Returns an unsubscribe function. */
  onStateChange(listener: (state: AuthState) => void): () => void;
}

export interface AppConfigInfo {
  apiBaseUrl: string;
  issuer: string;
}

export interface AppApi {
  getConfig(): Promise<AppConfigInfo>;
}

/** The request/response channels: `ipcRenderer.invoke(channel, ...args)` ↔ `ipcMain.handle(channel, ...)`. */
export interface InvokeChannels {
  'auth:get-state': () => Promise<AuthState>;
  'auth:login': () => Promise<AuthState>;
  'auth:cancel-login': () => Promise<void>;
  'auth:logout': () => Promise<AuthState>;
  'auth:get-access-token': () => Promise<string>;
  'auth:refresh-access-token': (rejectedToken: string) => Promise<string>;
  'app:get-config': () => Promise<AppConfigInfo>;
}

export type InvokeChannel = keyof InvokeChannels;

export const INVOKE_CHANNELS = [
  'auth:get-state',
  'auth:login',
  'auth:cancel-login',
  'auth:logout',
  'auth:get-access-token',
  'auth:refresh-access-token',
  'app:get-config',
] as const satisfies readonly InvokeChannel[];

/** Main → renderer events. */
export const STATE_CHANGED_CHANNEL = 'auth:state-changed';

/**
 * Handlers never throw raw errors across IPC (Electron would flatten them into a
 * string). They resolve to this envelope; the preload unwraps it and rejects
 * with an `Error` carrying `code`.
 */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

declare global {
  interface Window {
    auth: AuthApi;
    app: AppApi;
  }
}
