// IPC handler wiring (electron mocked): the handlers are registered through a
// plain ipcMain-like object, so no Electron is needed; the session is a
// recording stand-in because what is under test is the shell's checks and
// envelopes, not the auth core (test/renderer drives the real core).
import { describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../src/core/index.ts';
import type { AccountSessions, AuthSession, SignOutResult } from '../../src/core/index.ts';
import { MAX_TOKEN_ARGUMENT_LENGTH, registerIpcHandlers } from '../../src/main/ipc-handlers.ts';
import type { IpcInvokeEventLike, IpcMainLike } from '../../src/main/ipc-handlers.ts';
import { INVOKE_CHANNELS } from '../../src/shared/ipc.ts';
import type { AuthState } from '../../src/shared/auth-state.ts';
import type { InvokeChannel, IpcResult } from '../../src/shared/ipc.ts';

vi.mock('electron', () => ({}));

const APP_FRAME = { url: 'app://latchkey/index.html', parent: null };
const SIGNED_IN: AuthState = { status: 'signed-in', user: { sub: 'alice', name: 'Alice Liddell' }, keychain: 'os' };

function fakeSession(overrides: Partial<AuthSession & Pick<AccountSessions, 'switchAccount' | 'signOutAll'>> = {}) {
  const session = {
    getState: vi.fn(() => SIGNED_IN),
    onStateChange: vi.fn(() => () => undefined),
    signIn: vi.fn(async () => SIGNED_IN),
    cancelSignIn: vi.fn(),
    signOut: vi.fn(async (): Promise<SignOutResult> => ({ endSessionUrl: 'http://127.0.0.1:4400/session/end?client_id=x', revoked: true, revocation: 'revoked' })),
    getAccessToken: vi.fn(async () => 'access-1'),
    requestHeaders: vi.fn(async () => ({ Authorization: 'Bearer access-1' })),
    refreshAccessToken: vi.fn(async () => 'access-2'),
    retryNow: vi.fn(async () => undefined),
    retryKeychain: vi.fn(async () => SIGNED_IN),
    lookUpSharedTokens: vi.fn(async () => SIGNED_IN),
    whenIdle: vi.fn(async () => undefined),
    offersDeviceSignIn: vi.fn(async () => true),
    close: vi.fn(async () => undefined),
    switchAccount: vi.fn(async () => SIGNED_IN),
    signOutAll: vi.fn(async (): Promise<SignOutResult[]> => []),
    ...overrides,
  };
  return session satisfies AuthSession & Pick<AccountSessions, 'switchAccount' | 'signOutAll'>;
}

function fakeIpcMain() {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => void handlers.delete(channel),
  };
  const invoke = async (channel: InvokeChannel, args: unknown[] = [], frame: IpcInvokeEventLike['senderFrame'] = APP_FRAME) => {
    const handler = handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return (await handler({ senderFrame: frame }, ...args)) as IpcResult<unknown>;
  };
  return { ipcMain, handlers, invoke };
}

function setUp(sessionOverrides: Partial<AuthSession & Pick<AccountSessions, 'switchAccount' | 'signOutAll'>> = {}) {
  const session = fakeSession(sessionOverrides);
  const openEndSession = vi.fn(async () => undefined);
  const copied: string[] = [];
  const ipc = fakeIpcMain();
  const unregister = registerIpcHandlers(ipc.ipcMain, {
    session,
    config: { apiBaseUrl: 'http://127.0.0.1:4401', issuer: 'http://127.0.0.1:4400/', apis: [{ name: 'api', baseUrl: 'http://127.0.0.1:4401', audience: 'urn:latchkey:demo-api' }] },
    openEndSession,
    copyText: (text) => void copied.push(text),
  });
  return { session, openEndSession, copied, unregister, ...ipc };
}

describe('IPC handlers (electron mocked)', () => {
  it('registers one handler for every channel of the contract and removes them all', () => {
    const { handlers, unregister } = setUp();
    expect([...handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    unregister();
    expect(handlers.size).toBe(0);
  });

  it('answers the app page with the session result in an ok envelope', async () => {
    const { invoke, session } = setUp();
    expect(await invoke('auth:get-state')).toEqual({ ok: true, value: SIGNED_IN });
    expect(await invoke('auth:get-access-token')).toEqual({ ok: true, value: 'access-1' });
    expect(await invoke('auth:refresh-access-token', ['access-1'])).toEqual({ ok: true, value: 'access-2' });
    expect(session.refreshAccessToken).toHaveBeenCalledWith('access-1');
    expect(await invoke('app:get-config')).toEqual({ ok: true, value: { apiBaseUrl: 'http://127.0.0.1:4401', issuer: 'http://127.0.0.1:4400/', apis: [{ name: 'api', baseUrl: 'http://127.0.0.1:4401' }] } });
  });

  it('a sign-in with a code goes to the session as one; Copy puts the pending code on the clipboard, and refuses when none is pending', async () => {
    const pending: AuthState = { status: 'signing-in', deviceCode: { userCode: 'WDJB-MJHT', verificationUri: 'http://127.0.0.1:4400/device', verificationHost: '127.0.0.1:4400', expiresAt: 1, issuer: 'http://127.0.0.1:4400/', clientId: 'latchkey' } };
    const { invoke, session, copied } = setUp({ getState: vi.fn(() => pending) });
    expect(await invoke('auth:device-sign-in')).toEqual({ ok: true, value: SIGNED_IN });
    expect(session.signIn).toHaveBeenCalledWith({ method: 'device' });
    expect(await invoke('auth:offers-device-sign-in')).toEqual({ ok: true, value: true });
    expect(await invoke('auth:copy-user-code')).toEqual({ ok: true, value: undefined });
    expect(copied).toEqual(['WDJB-MJHT']);
    const idle = setUp();
    expect(await idle.invoke('auth:copy-user-code')).toEqual({ ok: false, error: { code: 'invalid_argument', message: 'No sign-in code is waiting to be entered.' } });
    expect(idle.copied).toEqual([]);
  });

  it.each([
    ['another origin', { url: 'https://evil.example/', parent: null }],
    ['an iframe inside the app page', { url: 'app://latchkey/index.html', parent: { url: 'app://latchkey/index.html' } }],
    ['a look-alike host', { url: 'app://latchkey.evil/index.html', parent: null }],
    ['a file:// page', { url: 'file:///work/main/out/renderer/index.html', parent: null }],
    ['no frame at all', null],
  ])('refuses a call from %s without touching the session', async (_name, frame) => {
    const { invoke, session } = setUp();
    for (const channel of INVOKE_CHANNELS) {
      const result = await invoke(channel, channel === 'auth:refresh-access-token' ? ['token'] : [], frame);
      expect(result).toEqual({ ok: false, error: { code: 'sender_refused', message: expect.any(String) } });
    }
    expect(session.signIn).not.toHaveBeenCalled();
    expect(session.getAccessToken).not.toHaveBeenCalled();
    expect(session.refreshAccessToken).not.toHaveBeenCalled();
    expect(session.signOut).not.toHaveBeenCalled();
  });

  it.each([
    ['no token', []],
    ['an empty token', ['']],
    ['a number', [42]],
    ['an object', [{ toString: () => 'x' }]],
    ['an oversized token', ['x'.repeat(MAX_TOKEN_ARGUMENT_LENGTH + 1)]],
    ['two arguments', ['a', 'b']],
  ])('refuses refreshAccessToken with %s', async (_name, args) => {
    const { invoke, session } = setUp();
    expect(await invoke('auth:refresh-access-token', args)).toEqual({ ok: false, error: { code: 'invalid_argument', message: expect.any(String) } });
    expect(session.refreshAccessToken).not.toHaveBeenCalled();
  });

  it('passes requestHeaders only { method, url } (and a nonce); anything else is refused before the session sees it', async () => {
    const { invoke, session } = setUp();
    expect(await invoke('auth:request-headers', [{ method: 'GET', url: 'http://127.0.0.1:4401/me' }])).toEqual({ ok: true, value: { Authorization: 'Bearer access-1' } });
    expect(await invoke('auth:request-headers', [{ method: 'GET', url: 'http://127.0.0.1:4401/me', nonce: 'n-1' }])).toMatchObject({ ok: true });
    expect(session.requestHeaders).toHaveBeenNthCalledWith(2, { method: 'GET', url: 'http://127.0.0.1:4401/me', nonce: 'n-1' });
    for (const args of [[], ['http://127.0.0.1:4401/me'], [{ url: 'http://127.0.0.1:4401/me' }], [{ method: 'GET', url: 42 }], [{ method: 'GET', url: 'x', key: 'd' }], [{ method: 'GET', url: 'x', nonce: '' }], [{ method: 'GET', url: 'x'.repeat(9000) }], [{ method: 'GET', url: 'x' }, 'extra']]) {
      expect(await invoke('auth:request-headers', args)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    }
    expect(session.requestHeaders).toHaveBeenCalledTimes(2);
  });

  it("passes retryKeychain only 'prompt' or 'check'", async () => {
    const { invoke, session } = setUp();
    expect(await invoke('auth:retry-keychain', ['prompt'])).toMatchObject({ ok: true });
    expect(session.retryKeychain).toHaveBeenCalledWith('prompt');
    for (const args of [[], ['always'], ['check', 'prompt'], [{ mode: 'check' }]]) {
      expect(await invoke('auth:retry-keychain', args)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    }
    expect(session.retryKeychain).toHaveBeenCalledTimes(1);
  });

  it('hands the page the signed-in user’s picture main fetched, never one the page names: a provider data: image as it is, an https one through profilePicture, else null', async () => {
    const at = (picture: string | undefined): AuthState => ({ ...SIGNED_IN, user: { sub: 'alice', ...(picture === undefined ? {} : { picture }) } });
    const fetched: string[] = [];
    const ipc = fakeIpcMain();
    let shown: AuthState = at('https://pictures.example/alice.png');
    registerIpcHandlers(ipc.ipcMain, {
      session: fakeSession({ getState: vi.fn(() => shown) }),
      config: { apiBaseUrl: 'http://127.0.0.1:4401', issuer: 'http://127.0.0.1:4400/', apis: [{ name: 'api', baseUrl: 'http://127.0.0.1:4401', audience: 'urn:latchkey:demo-api' }] },
      openEndSession: async () => undefined,
      copyText: () => undefined,
      profilePicture: async (url) => {
        fetched.push(url);
        return url.endsWith('alice.png') ? 'data:image/png;base64,iVBORw0KGgo=' : undefined;
      },
    });
    expect(await ipc.invoke('auth:profile-picture')).toEqual({ ok: true, value: 'data:image/png;base64,iVBORw0KGgo=' });
    expect(fetched).toEqual(['https://pictures.example/alice.png']);
    shown = at('https://pictures.example/huge.png');
    expect(await ipc.invoke('auth:profile-picture')).toEqual({ ok: true, value: null });
    const inline = 'data:image/svg+xml;base64,PHN2Zy8+';
    shown = at(inline);
    expect(await ipc.invoke('auth:profile-picture')).toEqual({ ok: true, value: inline });
    shown = at('data:text/html;base64,PHNjcmlwdD4=');
    expect(await ipc.invoke('auth:profile-picture')).toEqual({ ok: true, value: null });
    shown = at(undefined);
    expect(await ipc.invoke('auth:profile-picture')).toEqual({ ok: true, value: null });
    expect(await ipc.invoke('auth:profile-picture', ['https://evil.example/?token=x'])).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(fetched).toHaveLength(2);
  });

  it('refuses arguments on calls that take none', async () => {
    const { invoke, session } = setUp();
    expect(await invoke('auth:sign-in', [{ prompt: 'none' }])).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(session.signIn).not.toHaveBeenCalled();
  });

  it('carries an AuthError across as { code, message }', async () => {
    const { invoke } = setUp({
      getAccessToken: vi.fn(async () => {
        throw new AuthError('session_ended', 'Your session ended — sign in again.');
      }),
    });
    expect(await invoke('auth:get-access-token')).toEqual({ ok: false, error: { code: 'session_ended', message: 'Your session ended — sign in again.' } });
  });

  it('shows the window no secret quoted in error text: the state’s error and a failed call’s message are redacted, the access token asked for is not', async () => {
    const secret = 'opaque-refresh-SECRET-0123456789';
    const quoted = `The provider refused the refresh: invalid_grant — {"refresh_token":"${secret}"} via http://user:${secret}@proxy:8080`;
    const { invoke } = setUp({
      getState: vi.fn((): AuthState => ({ status: 'signed-out', keychain: 'os', error: { code: 'session_ended', message: quoted } })),
      // A code-bearing rejection that is not an AuthError (as a bridge or a library may give): redacted all the same.
      signIn: vi.fn(async () => Promise.reject({ code: 'provider_error', message: quoted })),
      getAccessToken: vi.fn(async () => secret),
    });
    for (const result of [await invoke('auth:get-state'), await invoke('auth:sign-in')]) {
      expect(JSON.stringify(result)).toContain('The provider refused the refresh');
      expect(JSON.stringify(result)).not.toContain(secret);
    }
    expect(await invoke('auth:get-access-token')).toEqual({ ok: true, value: secret });
  });

  it('hides the details of an unexpected error behind a plain sentence', async () => {
    const { invoke } = setUp({
      signIn: vi.fn(async () => {
        throw new Error('ENOENT /home/alice/.config/secret-path');
      }),
    });
    const result = await invoke('auth:sign-in');
    expect(result).toMatchObject({ ok: false, error: { code: 'internal_error' } });
    expect(JSON.stringify(result)).not.toContain('secret-path');
  });

  it('logout opens the end-session page and answers with the new state', async () => {
    const signedOut: AuthState = { status: 'signed-out' };
    const { invoke, openEndSession } = setUp({ getState: () => signedOut });
    expect(await invoke('auth:sign-out')).toEqual({ ok: true, value: signedOut });
    expect(openEndSession).toHaveBeenCalledWith('http://127.0.0.1:4400/session/end?client_id=x');
  });

  it('logout answers with the state that says the provider was not told, so the window can show it', async () => {
    const notice = { code: 'provider_error' as const, message: 'Signed out on this computer only: the provider refused to revoke the session (HTTP 401). It stays valid at the provider until it expires.' };
    const signedOut: AuthState = { status: 'signed-out', error: notice };
    const { invoke } = setUp({ getState: () => signedOut, signOut: vi.fn(async (): Promise<SignOutResult> => ({ revoked: false, revocation: 'refused', notice })) });
    expect(await invoke('auth:sign-out')).toEqual({ ok: true, value: { status: 'signed-out', error: notice } });
  });
});
