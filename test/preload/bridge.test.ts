// The preload's bridge over a recording invoke/subscribe pair (what the
// preload hands it is ipcRenderer; this module has no electron import).
import { describe, expect, it, vi } from 'vitest';
import { createAppApi, createAuthApi, createInvoke } from '../../src/preload/bridge.ts';
import type { AuthState } from '../../src/shared/auth-state.ts';

describe('the preload bridge', () => {
  it('calls each contract channel with its arguments and unwraps the ok envelope', async () => {
    const raw = vi.fn(async (channel: string, ...args: unknown[]) => ({ ok: true, value: { channel, args } }));
    const invoke = createInvoke(raw);
    const auth = createAuthApi(invoke, () => () => undefined);
    const app = createAppApi(invoke);
    await auth.getState();
    await auth.signIn();
    await auth.cancelSignIn();
    await auth.signOut();
    await auth.getAccessToken();
    await auth.refreshAccessToken('rejected-token');
    await app.getConfig();
    expect(raw.mock.calls).toEqual([
      ['auth:get-state'],
      ['auth:sign-in'],
      ['auth:cancel-sign-in'],
      ['auth:sign-out'],
      ['auth:get-access-token'],
      ['auth:refresh-access-token', 'rejected-token'],
      ['app:get-config'],
    ]);
  });

  it('rejects with a plain { name, code, message } that survives contextBridge (an Error would lose its code)', async () => {
    const invoke = createInvoke(async () => ({ ok: false, error: { code: 'session_ended', message: 'Your session ended — sign in again.' } }));
    const failure = await createAuthApi(invoke, () => () => undefined).getAccessToken().catch((error: unknown) => error);
    expect(failure).toEqual({ name: 'LatchkeyError', code: 'session_ended', message: 'Your session ended — sign in again.' });
    expect(Object.getPrototypeOf(failure)).toBe(Object.prototype);
  });

  it('rejects an answer that is not an envelope', async () => {
    const invoke = createInvoke(async () => 'surprise');
    await expect(createAppApi(invoke).getConfig()).rejects.toMatchObject({ code: 'internal_error' });
  });

  it('onStateChange delivers states until unsubscribed', () => {
    const listeners = new Set<(state: AuthState) => void>();
    const auth = createAuthApi(createInvoke(async () => ({ ok: true, value: undefined })), (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    });
    const seen: string[] = [];
    const unsubscribe = auth.onStateChange((state) => seen.push(state.status));
    for (const listener of listeners) listener({ status: 'signing-in' });
    unsubscribe();
    for (const listener of listeners) listener({ status: 'signed-in' });
    expect(seen).toEqual(['signing-in']);
    expect(listeners.size).toBe(0);
    expect(() => auth.onStateChange('not a function' as never)).toThrow(TypeError);
  });
});
