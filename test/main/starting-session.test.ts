// The shell's stand-in session while the real one opens (the keychain may wait on an
// unlock prompt). Plain objects: no electron import is involved.
import { describe, expect, it, vi } from 'vitest';
import type { AuthSession } from '../../src/core/index.ts';
import type { AuthState } from '../../src/shared/auth-state.ts';
import { createStartingSession } from '../../src/main/starting-session.ts';

function fakeSession(state: AuthState): AuthSession & { emit(state: AuthState): void } {
  const listeners = new Set<(state: AuthState) => void>();
  return {
    getState: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (next) => listeners.forEach((listener) => listener(next)),
    login: vi.fn(async () => state),
    cancelLogin: vi.fn(),
    logout: vi.fn(async () => ({ revocation: 'revoked' }) as never),
    getAccessToken: vi.fn(async () => 'access-token'),
    refreshAfterUnauthorized: vi.fn(async (rejected: string) => `newer-than-${rejected}`),
    retryNow: vi.fn(async () => undefined),
    retryKeychain: vi.fn(async () => state),
    whenIdle: vi.fn(async () => undefined),
    close: vi.fn(async () => undefined),
  };
}

describe('the session while the app opens it', () => {
  it('says "starting" — never signed out — and tells the window when the keychain waits on the user', () => {
    const starting = createStartingSession();
    const seen: AuthState[] = [];
    starting.session.onStateChange((state) => seen.push(state));
    expect(starting.session.getState()).toEqual({ status: 'starting' });
    starting.keychainWaiting();
    starting.keychainWaiting();
    expect(starting.session.getState()).toEqual({ status: 'starting', keychainWaiting: true });
    expect(seen).toEqual([{ status: 'starting', keychainWaiting: true }]);
  });

  it('calls made before the session is open wait for it, then go to it', async () => {
    const starting = createStartingSession();
    const token = starting.session.getAccessToken();
    const refreshed = starting.session.refreshAfterUnauthorized('old');
    let settled = false;
    void token.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    const real = fakeSession({ status: 'signed-in', keychain: 'os', user: { sub: 'alice' } });
    starting.ready(real);
    expect(await token).toBe('access-token');
    expect(await refreshed).toBe('newer-than-old');
    expect(real.refreshAfterUnauthorized).toHaveBeenCalledWith('old');
  });

  it('once open, is the real session: its state, and its state events to listeners that subscribed before', () => {
    const starting = createStartingSession();
    const seen: AuthState[] = [];
    const unsubscribe = starting.session.onStateChange((state) => seen.push(state));
    starting.keychainWaiting();
    const real = fakeSession({ status: 'signed-in', keychain: 'locked', user: { sub: 'alice' } });
    starting.ready(real);
    expect(starting.session.getState()).toEqual({ status: 'signed-in', keychain: 'locked', user: { sub: 'alice' } });
    real.emit({ status: 'signed-in', keychain: 'os', user: { sub: 'alice' } });
    unsubscribe();
    real.emit({ status: 'signed-out' });
    expect(seen.map((state) => [state.status, state.keychain ?? null, state.keychainWaiting ?? false])).toEqual([
      ['starting', null, true],
      ['signed-in', 'locked', false],
      ['signed-in', 'os', false],
    ]);
    starting.keychainWaiting();
    expect(starting.session.getState().keychainWaiting).toBeUndefined();
  });

  it('a quit before the session is open waits for it and closes it when it arrives', async () => {
    const starting = createStartingSession();
    let closed = false;
    const closing = starting.session.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    const real = fakeSession({ status: 'signed-out' });
    expect(starting.ready(real)).toBe(false);
    await closing;
    expect(real.close).toHaveBeenCalled();
  });
});
