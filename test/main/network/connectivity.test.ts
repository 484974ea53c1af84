import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryWhenReachable } from '../../../src/main/network/connectivity.ts';
import type { AuthState } from '../../../src/shared/auth-state.ts';

function fakeSession(initial: AuthState['status']) {
  let state: AuthState = { status: initial };
  const listeners = new Set<(state: AuthState) => void>();
  return {
    getState: () => state,
    onStateChange: (listener: (state: AuthState) => void) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    retryNow: vi.fn(async () => undefined),
    set(status: AuthState['status'], keychain?: AuthState['keychain']) {
      state = keychain ? { status, keychain } : { status };
      for (const listener of listeners) listener(state);
    },
  };
}

function fakeSignals(online: boolean) {
  const resumeListeners = new Set<() => void>();
  return {
    online,
    isOnline() {
      return this.online;
    },
    onResume: (listener: () => void) => {
      resumeListeners.add(listener);
      return () => void resumeListeners.delete(listener);
    },
    resume: () => resumeListeners.forEach((listener) => listener()),
    resumeListeners,
  };
}

describe('retrying an offline session (resume, network back)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries at once when the machine resumes while offline, not while signed in', () => {
    const session = fakeSession('signed-in');
    const signals = fakeSignals(true);
    retryWhenReachable(session, signals);
    signals.resume();
    expect(session.retryNow).not.toHaveBeenCalled();
    session.set('offline');
    signals.resume();
    expect(session.retryNow).toHaveBeenCalledTimes(1);
  });

  it('looks for a session locked away in the keychain again when the machine resumes (the user just unlocked it by logging in)', () => {
    const session = fakeSession('signed-in');
    const signals = fakeSignals(true);
    retryWhenReachable(session, signals);
    session.set('signed-in', 'locked');
    signals.resume();
    expect(session.retryNow).toHaveBeenCalledTimes(1);
  });

  it('retries when the network comes back, polling only while offline', () => {
    vi.useFakeTimers();
    const session = fakeSession('signed-in');
    const signals = fakeSignals(true);
    const isOnline = vi.spyOn(signals, 'isOnline');
    retryWhenReachable(session, signals, { pollMs: 1_000 });
    vi.advanceTimersByTime(10_000);
    const callsWhileSignedIn = isOnline.mock.calls.length;

    signals.online = false;
    session.set('offline');
    vi.advanceTimersByTime(3_000);
    expect(session.retryNow).not.toHaveBeenCalled();
    signals.online = true;
    vi.advanceTimersByTime(1_000);
    expect(session.retryNow).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5_000);
    expect(session.retryNow).toHaveBeenCalledTimes(1);

    session.set('signed-in');
    const callsWhenBack = isOnline.mock.calls.length;
    vi.advanceTimersByTime(10_000);
    expect(isOnline.mock.calls.length).toBe(callsWhenBack);
    expect(callsWhileSignedIn).toBeLessThanOrEqual(1);
  });

  it('stops listening when stopped', () => {
    const session = fakeSession('offline');
    const signals = fakeSignals(true);
    const stop = retryWhenReachable(session, signals);
    stop();
    signals.resume();
    expect(session.retryNow).not.toHaveBeenCalled();
    expect(signals.resumeListeners.size).toBe(0);
  });
});
