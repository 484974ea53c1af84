// The only bridge between the page and main. The page gets `window.auth` and
// `window.app` — functions, never ipcRenderer itself — and never a refresh token.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { STATE_CHANGED_CHANNEL } from '../shared/ipc.ts';
import type { AuthState } from '../shared/auth-state.ts';
import { createAppApi, createAuthApi, createInvoke } from './bridge.ts';
import type { Subscribe } from './bridge.ts';

const invoke = createInvoke((channel, ...args) => ipcRenderer.invoke(channel, ...args));

const subscribe: Subscribe = (listener) => {
  const forward = (_event: IpcRendererEvent, state: AuthState) => listener(state);
  ipcRenderer.on(STATE_CHANGED_CHANNEL, forward);
  return () => void ipcRenderer.removeListener(STATE_CHANGED_CHANNEL, forward);
};

contextBridge.exposeInMainWorld('auth', createAuthApi(invoke, subscribe));
contextBridge.exposeInMainWorld('app', createAppApi(invoke));
