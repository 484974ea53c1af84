// The renderer-facing API, built over any `invoke`/`subscribe` pair. The
// preload hands it Electron's ipcRenderer; the renderer tests hand it a bridge
// to the real main-process handlers. No electron import here.
import type { AppApi, AuthApi, AuthState, ErrorInfo, InvokeChannel, InvokeChannels, IpcResult } from '../shared/ipc.ts';

/** `ipcRenderer.invoke`, untyped as Electron declares it. */
export type RawInvoke = (channel: InvokeChannel, ...args: unknown[]) => Promise<unknown>;
/** The typed view of it: each channel's arguments and result come from `InvokeChannels`. */
export type Invoke = <C extends InvokeChannel>(channel: C, ...args: Parameters<InvokeChannels[C]>) => ReturnType<InvokeChannels[C]>;
export type Subscribe = (listener: (state: AuthState) => void) => () => void;

/**
 * What a failed call rejects with. A plain `{ name, code, message }` object, not
 * an `Error`: contextBridge rebuilds errors from their message alone, so an
 * `Error`'s `code` would not reach the page; plain objects cross intact.
 */
export interface BridgeError extends ErrorInfo {
  name: 'LatchkeyError';
}

export function toBridgeError(error: ErrorInfo): BridgeError {
  return { name: 'LatchkeyError', code: String(error.code), message: String(error.message) };
}

/** Unwraps the handlers' `IpcResult` envelope: the value, or a rejection carrying `{ code, message }`. */
export function createInvoke(raw: RawInvoke): Invoke {
  return (async (channel: InvokeChannel, ...args: unknown[]) => {
    const result = (await raw(channel, ...args)) as IpcResult<unknown> | undefined;
    if (result && result.ok === true) return result.value;
    if (result && result.ok === false) throw toBridgeError(result.error);
    throw toBridgeError({ code: 'internal_error', message: 'Latchkey answered in an unexpected way. Restart the app.' });
  }) as Invoke;
}

export function createAuthApi(invoke: Invoke, subscribe: Subscribe): AuthApi {
  return {
    getState: () => invoke('auth:get-state'),
    login: () => invoke('auth:login'),
    cancelLogin: () => invoke('auth:cancel-login'),
    logout: () => invoke('auth:logout'),
    getAccessToken: () => invoke('auth:get-access-token'),
    refreshAccessToken: (rejectedToken) => invoke('auth:refresh-access-token', rejectedToken),
    onStateChange: (listener) => {
      if (typeof listener !== 'function') throw new TypeError('onStateChange needs a function.');
      return subscribe((state) => listener(state));
    },
  };
}

export function createAppApi(invoke: Invoke): AppApi {
  return { getConfig: () => invoke('app:get-config') };
}
