import { AuthError } from '../errors.ts';
import { fingerprint } from '../log.ts';
import { type Logger } from '../../shared/logger.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import type { RetrySchedule } from './retry-schedule.ts';
import { refreshFailureMeaning } from '../session/refresh.ts';
import type { SessionState } from '../session/state.ts';

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
  store: SessionState;
  getProvider(): Promise<ProviderClient>;
  retries: RetrySchedule;
  logger: Logger;
  isClosed(): boolean;
}

interface Flight {
  /** Settles with the new access token as soon as the provider answered. */
  token: Promise<string>;
  /** Settles when the rotated refresh token is stored and the lock released. */
  done: Promise<void>;
  redeemed: boolean;
}

/**
 * Refreshes are single-flight within the process and serialized across
 * processes by the entry's lock (`SessionStore.beginRefresh`); a rotated
 * refresh token is stored before the next refresh can start (RFC 9700
 * §4.14.2), and before the lock is released, so no process ever redeems a
 * spent token. An unreachable provider is retried with backoff.
 */
export function createRefresher(deps: RefresherDeps): Refresher {
  const { store, retries, logger } = deps;
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
    const onRedeemed = (accessToken: string) => {
      current.redeemed = true;
      retries.reset();
      token.resolve(accessToken);
    };
    current.done = redeem(onRedeemed)
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

  /** The store says what the failure means for the session; an unreachable provider is tried again later. */
  const failed = (refreshError: unknown): void => {
    store.refreshFailed(refreshError);
    const meaning = refreshFailureMeaning(refreshError);
    if (meaning === 'ended') retries.cancel();
    else if (meaning === 'offline') retries.schedule(() => void refresh().catch(() => {}), (refreshError as AuthError).retryAfterMs);
  };

  /**
   * Under the lock (the store's refresh turn): redeem the live refresh token
   * and hand its answer to the store, which stores the rotated token the moment
   * the answer arrives, before openid-client checks the ID token (JWKS fetch,
   * signature, clock) — the token just sent is spent, so a check failing on
   * our side must not leave it as the one stored (RFC 9700 §4.14.2).
   */
  const redeem = async (onRedeemed: (accessToken: string) => void): Promise<void> => {
    const client = await deps.getProvider();
    const turn = await store.beginRefresh();
    try {
      if (turn.adopted !== undefined) {
        onRedeemed(turn.adopted);
        return;
      }
      if (turn.accessOnly) {
        // Nothing to redeem: the access token was refused (a 401), and the provider issues no refresh token to renew it.
        await turn.endSession();
        throw new AuthError(
          'session_ended',
          'Your session ended: the access token it stands on was refused (the authorization was revoked at the provider, or the token expired), and this provider issues no refresh token to renew it. Sign in again.',
        );
      }
      let result: TokenResult;
      try {
        // A holder that stalled past the stale bound (Ctrl-Z) and was overtaken redeems nothing.
        turn.assertHeld();
        result = await client.refresh(turn.refreshToken, { onRotated: turn.storeRotation, ...(turn.dpop ? { dpop: turn.dpop } : {}) });
      } catch (refreshError) {
        if (refreshError instanceof AuthError && refreshError.code === 'session_ended') await turn.endSession();
        throw refreshError;
      }
      if (result.user && turn.sub && result.user.sub !== turn.sub) {
        // These tokens are not used; the rotated refresh token is stored all the same, since the
        // one just sent is spent and redeeming it again would look like reuse and revoke the family.
        if (result.refreshToken) turn.storeRotation({ refreshToken: result.refreshToken, ...(result.scope ? { scope: result.scope } : {}) });
        logger.warn('refreshed ID token names another user; tokens refused', { rotated: result.refreshToken !== undefined && result.refreshToken !== turn.refreshToken });
        throw new AuthError(
          'id_token_invalid',
          'The provider renewed the session for a different user than the one signed in, so Latchkey did not use it. Sign out and sign in again.',
        );
      }
      turn.storeAnswer(result);
      const rotated = result.refreshToken !== undefined && result.refreshToken !== turn.refreshToken;
      logger.info('access token refreshed', { access: fingerprint(result.accessToken), refresh: fingerprint(result.refreshToken ?? turn.refreshToken), rotated });
      // Callers get the token now; the next refresh still waits for this flight, so the rotated token is stored first.
      onRedeemed(result.accessToken);
    } finally {
      await turn.release();
    }
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
