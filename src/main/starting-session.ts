import type { AuthSession } from '../core/index.ts';
import type { AuthState } from '../shared/auth-state.ts';

/** The session the shell hands out while it opens the real one, and how it learns about that one. */
export interface StartingSession {
  /** Answers `starting` until `ready`, then is the real session; calls made before wait for it. */
  readonly session: AuthSession;
  /** The keychain is waiting on the user (an unlock prompt is open): the window says so. */
  keychainWaiting(): void;
  /** Hands over the opened session; false (and the session closed) when the app quit meanwhile. */
  ready(session: AuthSession): boolean;
}

/**
 * Opening the stored session reads the keychain, which may wait on an unlock
 * prompt for as long as the user takes. The window opens first, on this
 * stand-in, so it can show "Waiting for your keychain…" instead of nothing —
 * and never a signed-out state (and a "Sign in" button) over a session that
 * is only locked away.
 */
export function createStartingSession(): StartingSession {
  let real: AuthSession | undefined;
  let waiting = false;
  let closed = false;
  let resolveReady!: (session: AuthSession) => void;
  const whenReady = new Promise<AuthSession>((resolve) => (resolveReady = resolve));
  const listeners = new Map<(state: AuthState) => void, (() => void) | undefined>();

  const startingState = (): AuthState => (waiting ? { status: 'starting', keychainWaiting: true } : { status: 'starting' });
  const notify = (state: AuthState) => {
    for (const listener of listeners.keys()) listener(state);
  };
  const later =
    <K extends 'login' | 'logout' | 'getAccessToken' | 'refreshAfterUnauthorized' | 'retryNow' | 'retryKeychain' | 'whenIdle'>(method: K) =>
    async (...args: Parameters<AuthSession[K]>): Promise<Awaited<ReturnType<AuthSession[K]>>> =>
      ((await whenReady)[method] as (...a: Parameters<AuthSession[K]>) => Promise<Awaited<ReturnType<AuthSession[K]>>>)(...args);

  const session: AuthSession = {
    getState: () => real?.getState() ?? startingState(),
    onStateChange(listener) {
      listeners.set(listener, real?.onStateChange(listener));
      return () => {
        listeners.get(listener)?.();
        listeners.delete(listener);
      };
    },
    login: later('login'),
    cancelLogin: () => real?.cancelLogin(),
    logout: later('logout'),
    getAccessToken: later('getAccessToken'),
    refreshAfterUnauthorized: later('refreshAfterUnauthorized'),
    retryNow: later('retryNow'),
    retryKeychain: later('retryKeychain'),
    whenIdle: later('whenIdle'),
    // A quit while the session is still opening waits for it (the shell bounds the wait), so nothing is
    // still reading the keychain or writing the data folder when the app exits.
    close: async () => {
      closed = true;
      await (real ?? (await whenReady)).close();
    },
  };

  return {
    session,
    keychainWaiting() {
      if (real || waiting) return;
      waiting = true;
      notify(startingState());
    },
    ready(opened) {
      if (closed) {
        resolveReady(opened);
        return false;
      }
      real = opened;
      for (const listener of listeners.keys()) listeners.set(listener, opened.onStateChange(listener));
      resolveReady(opened);
      notify(opened.getState());
      return true;
    },
  };
}
