import type { Logger } from '../../shared/logger.ts';
import { AuthError } from '../errors.ts';
import type { RetrySchedule } from './retry-schedule.ts';

/** The refreshes of one session: at most one in flight, and the next one only after the last stored its rotated token. */
export interface Refresher {
  /** A new access token: joins the flight waiting for the provider, or starts one once the last is stored. */
  refresh(): Promise<string>;
  /** The flight still waiting for the provider's answer, if any: its callers get the same token. */
  readonly awaitingAnswer: Promise<string> | undefined;
  /** The flight still running (answered or not): settles once its rotated token is stored. */
  readonly running: Promise<void> | undefined;
  /** True while a retry after a failure is scheduled: callers fail fast instead of defeating the backoff. */
  readonly backingOff: boolean;
  /** Drops a scheduled retry (signed out, closed, retrying now); `restart`: the next failure backs off from the first step again (a new sign-in). */
  cancelRetry(options?: { restart?: boolean }): void;
  /** Resolves once no refresh is running: a rotated refresh token is then in the keychain. */
  whenIdle(): Promise<void>;
}

export interface RefresherDeps {
  /**
   * One refresh, start to end (the session's, under the entry's lock): calls `onAnswered` with the new access token
   * as soon as it has one, and settles once what came back is stored and the lock released.
   */
  redeem(onAnswered: (accessToken: string) => void): Promise<void>;
  /** A refresh failed before it answered: the session decides what that means for it (see `refreshFailureMeaning`). */
  failed(refreshError: unknown): void;
  retries: RetrySchedule;
  logger: Logger;
  isClosed(): boolean;
}

/** What a failed refresh means for the session: it ended (sign in again), the provider is out of reach for now (retry later), or only this call failed. */
export function refreshFailureMeaning(refreshError: unknown): 'ended' | 'offline' | 'failed' {
  const code = refreshError instanceof AuthError ? refreshError.code : undefined;
  if (code === 'session_ended' || code === 'signed_out') return 'ended';
  return code === 'provider_unreachable' || code === 'provider_error' ? 'offline' : 'failed';
}

interface Flight {
  /** Settles with the new access token as soon as the provider answered. */
  token: Promise<string>;
  /** Settles when the rotated refresh token is stored and the lock released. */
  done: Promise<void>;
  redeemed: boolean;
}

/**
 * Refreshes are single-flight within the process — however many callers ask,
 * one request — and serialized across processes by the entry's lock (inside
 * `redeem`); a rotated refresh token is stored before the next refresh can
 * start (RFC 9700 §4.14.2), so no process ever redeems a spent token. An
 * unreachable provider is retried with backoff.
 */
export function createRefresher(deps: RefresherDeps): Refresher {
  const { retries, logger } = deps;
  let flight: Flight | undefined;
  let queued: Promise<string> | undefined;

  const refresh = (): Promise<string> => {
    if (flight && !flight.redeemed) return flight.token;
    if (flight) {
      // The last flight already answered and is storing its rotated token: the next one starts after it.
      queued ??= flight.done.then(() => {
        queued = undefined;
        return refresh();
      });
      return queued;
    }
    if (deps.isClosed()) return Promise.reject(new AuthError('signed_out', 'The session is closed.'));
    retries.cancel();
    const token = deferred<string>();
    token.promise.catch(() => {});
    const current: Flight = { token: token.promise, done: Promise.resolve(), redeemed: false };
    const onAnswered = (accessToken: string) => {
      current.redeemed = true;
      retries.reset();
      token.resolve(accessToken);
    };
    current.done = deps
      .redeem(onAnswered)
      .catch((refreshError: unknown) => {
        if (current.redeemed) {
          logger.error('after the refresh', { error: String(refreshError) });
          return;
        }
        failed(refreshError);
        token.reject(refreshError);
      })
      .finally(() => {
        if (flight === current) flight = undefined;
      });
    flight = current;
    return token.promise;
  };

  /** The session says what the failure means for it; an unreachable provider is tried again later. */
  const failed = (refreshError: unknown): void => {
    deps.failed(refreshError);
    const meaning = refreshFailureMeaning(refreshError);
    if (meaning === 'ended') retries.cancel();
    else if (meaning === 'offline') retries.schedule(() => void refresh().catch(() => {}), (refreshError as AuthError).retryAfterMs);
  };

  return {
    refresh,
    get awaitingAnswer() {
      return flight && !flight.redeemed ? flight.token : undefined;
    },
    get running() {
      return flight?.done;
    },
    get backingOff() {
      return retries.pending;
    },
    cancelRetry(options = {}) {
      retries.cancel();
      if (options.restart) retries.reset();
    },
    async whenIdle() {
      while (flight) await flight.done;
    },
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
