// The renderer-facing API, built over any `invoke`/`subscribe` pair. The
// preload hands it Electron's ipcRenderer; the renderer tests hand it a bridge
// to the real main-process handlers. No electron import here.
import { INVOKE_CHANNELS } from '../shared/ipc.ts';
import type { AuthState } from '../shared/auth-state.ts';
import type { ErrorInfo } from '../shared/errors.ts';
import type { AppApi, AuthApi, InvokeApi, InvokeChannel, InvokeChannels, IpcResult } from '../shared/ipc.ts';
import { toErrorInfo } from '../shared/errors.ts';

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

export function toBridgeError(error: unknown): BridgeError {
  return { name: 'LatchkeyError', ...toErrorInfo(error) };
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

/** One method per channel of `namespace` in the contract: `auth:get-access-token` → `getAccessToken(...)`. */
function methodsOf<Namespace extends string>(invoke: Invoke, namespace: Namespace): InvokeApi<Namespace> {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const channel of INVOKE_CHANNELS) {
    const [prefix, name = ''] = channel.split(':');
    if (prefix !== namespace) continue;
    const method = name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    api[method] = (...args) => (invoke as (c: InvokeChannel, ...a: unknown[]) => Promise<unknown>)(channel, ...args);
  }
  return api as InvokeApi<Namespace>;
}

export function createAuthApi(invoke: Invoke, subscribe: Subscribe): AuthApi {
  return {
    ...methodsOf(invoke, 'auth'),
    onStateChange: (listener) => {
      if (typeof listener !== 'function') throw new TypeError('onStateChange needs a function.');
      return subscribe((state) => listener(state));
    },
  };
}

export function createAppApi(invoke: Invoke): AppApi {
  return methodsOf(invoke, 'app');
}
