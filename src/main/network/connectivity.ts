import type { AuthSession } from '../../core/index.ts';

export interface ConnectivitySignals {
  /** Subscribes to "the machine woke up" (Electron's `powerMonitor` 'resume'). */
  onResume(listener: () => void): () => void;
  /** Whether the OS reports a network connection (Electron's `net.isOnline()`). */
  isOnline(): boolean;
}

export const ONLINE_POLL_MS = 5_000;

/**
 * Retries an offline session as soon as there is a reason to expect the
 * provider back: the machine resumed from sleep, or the network came back.
 * A session locked away in the keychain is looked for again on resume.
 * The network is watched from main by polling `net.isOnline()` while — and
 * only while — the session is offline, so the renderer never has to report it.
 */
export function retryWhenReachable(
  session: Pick<AuthSession, 'getState' | 'onStateChange' | 'retryNow'>,
  signals: ConnectivitySignals,
  options: { pollMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  const pollMs = options.pollMs ?? ONLINE_POLL_MS;
  const retry = () => {
    const state = session.getState();
    // A keychain locked at sleep is often unlocked again at wake-up (the user logs back in).
    if (state.status !== 'offline' && state.keychain !== 'locked') return;
    session.retryNow().catch((error: unknown) => options.onError?.(error));
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  let wasOnline = signals.isOnline();
  const poll = () => {
    const online = signals.isOnline();
    if (online && !wasOnline) retry();
    wasOnline = online;
  };
  const follow = (status: string) => {
    if (status === 'offline' && !timer) {
      wasOnline = signals.isOnline();
      timer = setInterval(poll, pollMs);
      timer.unref?.();
    } else if (status !== 'offline' && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const stopResume = signals.onResume(retry);
  const stopState = session.onStateChange((state) => follow(state.status));
  follow(session.getState().status);
  return () => {
    stopResume();
    stopState();
    if (timer) clearInterval(timer);
  };
}
