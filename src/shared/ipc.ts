// The IPC contract between the renderer and the main process.
//
// `InvokeChannels` is the one place a call is declared: the renderer's
// `window.auth`/`window.app` types, the preload's bridge, the channel list and
// the main-process handlers are all derived from it, so adding a call touches
// this map and its handler — TypeScript points at the handler until it exists.
// Types and constants only: importable from the renderer, the preload and Node.
// The domain types it carries (AuthState…) are src/shared/auth-state.ts; the page's
// `window.auth` / `window.app` globals are declared in src/renderer/window-api.d.ts.
import type { ApiRequest, ApiRequestHeaders, AuthState } from './auth-state.ts';
import type { ErrorInfo } from './errors.ts';

export interface AppConfigInfo {
  apiBaseUrl: string;
  issuer: string;
  /** Every configured API, the first being `apiBaseUrl`'s: the window offers a call to each. */
  apis: Array<{ name: string; baseUrl: string }>;
}

/**
 * Every request/response call: `ipcRenderer.invoke(channel, ...args)` ↔
 * `ipcMain.handle(channel, ...)`. `auth:refresh-access-token` becomes
 * `window.auth.refreshAccessToken`, `app:get-config` becomes `window.app.getConfig`.
 */
export interface InvokeChannels {
  'auth:get-state': () => Promise<AuthState>;
  /** Opens the system browser; resolves when signed in. A second call cancels the pending attempt and starts anew. */
  'auth:sign-in': () => Promise<AuthState>;
  /** Sign-in with a code entered on any device (RFC 8628): the state's `deviceCode` says what to enter where; resolves when signed in. */
  'auth:device-sign-in': () => Promise<AuthState>;
  /** Whether the provider offers sign-in with a code (false when it cannot be reached). */
  'auth:offers-device-sign-in': () => Promise<boolean>;
  /** Copies the pending sign-in's user code to the clipboard (main holds it; the page never needs clipboard permission). */
  'auth:copy-user-code': () => Promise<void>;
  'auth:cancel-sign-in': () => Promise<void>;
  /** Signs out of the window's account; the window then acts for the account that is the default now, if any. */
  'auth:sign-out': () => Promise<AuthState>;
  /** Opens the system browser with the provider's account chooser; whoever signs in is added (or renewed) and the window acts for them. */
  'auth:add-account': () => Promise<AuthState>;
  /** The window acts for this account (its name or `sub`, from the state's `accounts`) from now on. */
  'auth:switch-account': (account: string) => Promise<AuthState>;
  /** Signs out of every account signed in here. */
  'auth:sign-out-all': () => Promise<AuthState>;
  /** A valid access token, refreshed in main if needed. */
  'auth:get-access-token': () => Promise<string>;
  /** After the API answered 401 for `rejectedToken`: a newer token, refreshing at most once however many callers ask. */
  'auth:refresh-access-token': (rejectedToken: string) => Promise<string>;
  /**
   * The headers for one API call (RFC 9449 §7.1): the renderer never holds the DPoP key, only a proof for this
   * method and URL. Only for URLs under the configured API.
   */
  'auth:request-headers': (request: ApiRequest) => Promise<ApiRequestHeaders>;
  /**
   * An API answered 401 asking for a stronger or more recent sign-in (its `WWW-Authenticate` value, `challenge`:
   * RFC 9470, or an Entra claims challenge): opens the system browser for that sign-in, of the same account (a
   * sign-in as another user is refused); resolves when signed in. A value that asks for no step-up is refused.
   */
  'auth:step-up': (challenge: string) => Promise<AuthState>;
  /**
   * While the keychain is locked or refuses access: read the stored session again. `prompt` lets the keychain ask
   * the user to unlock it (the "Unlock and retry" button); `check` only looks (window focus, resume), so a dismissed
   * prompt is not shown again and again.
   */
  'auth:retry-keychain': (mode: 'prompt' | 'check') => Promise<AuthState>;
  /**
   * The signed-in user's profile picture as a `data:` URL, or null when there is none or it cannot be shown. Main
   * fetches it (https only, an image, size-capped, over the core's TLS rules): the page's CSP allows images only from
   * the app itself and `data:`, so no image address can carry a token out of the page.
   */
  'auth:profile-picture': () => Promise<string | null>;
  'app:get-config': () => Promise<AppConfigInfo>;
}

export type InvokeChannel = keyof InvokeChannels;

/** Every channel, checked both ways against `InvokeChannels`: a missing or an extra one does not compile. */
export const INVOKE_CHANNELS = Object.keys({
  'auth:get-state': 0,
  'auth:sign-in': 0,
  'auth:device-sign-in': 0,
  'auth:offers-device-sign-in': 0,
  'auth:copy-user-code': 0,
  'auth:cancel-sign-in': 0,
  'auth:sign-out': 0,
  'auth:add-account': 0,
  'auth:switch-account': 0,
  'auth:sign-out-all': 0,
  'auth:get-access-token': 0,
  'auth:refresh-access-token': 0,
  'auth:request-headers': 0,
  'auth:step-up': 0,
  'auth:retry-keychain': 0,
  'auth:profile-picture': 0,
  'app:get-config': 0,
} satisfies Record<InvokeChannel, 0>) as InvokeChannel[];

/** `get-access-token` → `getAccessToken`. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The method a channel becomes on `window.<namespace>`. */
export type MethodName<C extends InvokeChannel> = C extends `${string}:${infer Name}` ? CamelCase<Name> : never;

/** The calls of one namespace (`auth`, `app`) as methods. */
export type InvokeApi<Namespace extends string> = {
  [C in InvokeChannel as C extends `${Namespace}:${string}` ? MethodName<C> : never]: InvokeChannels[C];
};

export interface AuthApi extends InvokeApi<'auth'> {
  /** Main → renderer state events (`STATE_CHANGED_CHANNEL`). Returns an unsubscribe function. */
  onStateChange(listener: (state: AuthState) => void): () => void;
}

export type AppApi = InvokeApi<'app'>;

/** Main → renderer events. */
export const STATE_CHANGED_CHANNEL = 'auth:state-changed';

/**
 * Handlers never throw raw errors across IPC (Electron would flatten them into a
 * string). They resolve to this envelope; the preload unwraps it and rejects
 * with a plain `{ name, code, message }` object (see `BridgeError`), because
 * contextBridge would drop an `Error`'s `code`.
 */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
