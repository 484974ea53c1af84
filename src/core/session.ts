import type { AuthState, AuthStatus, ErrorInfo, UserProfile } from '../shared/ipc.ts';
import type { AuthConfig } from './config.ts';
import { AuthError, toErrorInfo } from './errors.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { createLogger, fingerprint, type Logger } from './log.ts';
import { openProfileStore, type ProfileStore } from './profile-store.ts';
import { connectProvider, type Opener, type ProviderClient, type TokenResult } from './provider-client.ts';
import { applyTokens, createRefresher, type SessionData } from './refresh-flight.ts';
import { acquireRefreshLock, announceEntryChange, refreshLockPath } from './refresh-lock.ts';
import { createAccessTokens } from './access-tokens.ts';
import { createRetrySchedule } from './renewal.ts';
import { backgroundTimers, type Timers } from './timers.ts';
import { keychainAccount, openSessionEntry } from './session-entry.ts';
import { openKeychain, type SecretStore } from './secret-store.ts';
import { createSignInAttempts } from './sign-in-attempts.ts';

/** One signed-in user of one provider: the access token in memory, the refresh token in the keychain. */
export interface AuthSession {
  getState(): AuthState;
  /** Called on every state change; returns the unsubscribe function. */
  onStateChange(listener: (state: AuthState) => void): () => void;
  /** Interactive sign-in through the system browser. A new call cancels a pending one (`login_cancelled`). */
  login(options?: { timeoutMs?: number }): Promise<AuthState>;
  cancelLogin(): void;
  /** Revokes at the provider when it can, forgets everything local always. `revoked` is false when the provider could not be told. */
  logout(): Promise<{ endSessionUrl?: string; revoked?: boolean }>;
  /** A valid access token, refreshed first when it is missing or about to expire. */
  getAccessToken(): Promise<string>;
  /** After an API answered 401 for `rejectedToken`: a newer token, with at most one refresh however many callers ask. */
  refreshAfterUnauthorized(rejectedToken: string): Promise<string>;
  /** While offline: try to refresh now instead of waiting for the next backoff step (resume, network back). */
  retryNow(): Promise<void>;
  /** Resolves once no refresh is running: a rotated refresh token is then in the keychain. */
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

export interface AuthSessionDeps {
  config: AuthConfig;
  opener: Opener;
  secretStore?: SecretStore;
  profileStore?: ProfileStore;
  provider?: ProviderClient;
  http?: HttpClient;
  clock?: () => number;
  logger?: Logger;
  timers?: Timers;
  random?: () => number;
}

const SESSION_ENDED_MESSAGE = 'Your session ended — sign in again.';

/**
 * Creates the session for `config` and restores a stored one from the
 * keychain, without touching the network: with a stored refresh token the
 * state is 'signed-in' with the cached profile at once, and the first access
 * token is fetched on first need (RFC 6749 §6). The provider is discovered
 * lazily, once, so this works offline.
 *
 * Refreshes go through `createRefresher` (single-flight, cross-process lock,
 * rotated token stored first). `invalid_grant` ends the session; unreachable
 * providers leave it intact and retry with backoff (`createRetrySchedule`).
 */
export async function createAuthSession(deps: AuthSessionDeps): Promise<AuthSession> {
  const { config, opener } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger();
  const secretStore = deps.secretStore ?? (await openKeychain(config.keychainService, { logger }));
  const profileStore = deps.profileStore ?? openProfileStore(config.dataDir);
  const lockPath = refreshLockPath(config.dataDir, keychainAccount(config));
  const entry = openSessionEntry({ config, secretStore, profileStore, lockPath, logger, onDegraded: () => emit() });
  const timers = deps.timers ?? backgroundTimers;
  const retries = createRetrySchedule({ timers, random: deps.random ?? Math.random, logger });

  const data: SessionData = {};
  let status: AuthStatus = 'signed-out';
  let error: ErrorInfo | undefined;
  const attempts = createSignInAttempts();
  let provider: Promise<ProviderClient> | undefined = deps.provider ? Promise.resolve(deps.provider) : undefined;
  let ownHttp: HttpClient | undefined;
  let closed = false;
  /** Best-effort revocations still in flight; close() lets them finish, so a short-lived process (the CLI) still sends them. */
  const revocations = new Set<Promise<void>>();
  const listeners = new Set<(state: AuthState) => void>();

  const getState = (): AuthState => {
    const state: AuthState = { status, keychain: entry.keychain };
    if (data.user) state.user = { ...data.user };
    const shown = error ?? entry.notice;
    if (shown) state.error = { ...shown };
    const { access } = data;
    if (access) state.accessToken = access.expiresAt === undefined ? { refreshedAt: access.refreshedAt } : { refreshedAt: access.refreshedAt, expiresAt: access.expiresAt };
    return state;
  };

  const emit = () => {
    const state = getState();
    for (const listener of listeners) {
      try {
        listener(state);
      } catch (listenerError) {
        logger.error('a state listener threw', { error: String(listenerError) });
      }
    }
  };

  const getProvider = (): Promise<ProviderClient> => {
    if (!provider) {
      const http = deps.http ?? (ownHttp ??= createHttpClient());
      provider = connectProvider(config, { http, clock, logger, ...(deps.timers ? { timers: deps.timers } : {}) });
      // A failed discovery is retried on next need rather than remembered.
      provider.catch(() => {
        provider = undefined;
      });
    }
    return provider;
  };

  /** The status of the stored session; while a sign-in is pending it shows 'signing-in' and this is what a failed one returns to. */
  const setSessionStatus = (next: AuthStatus): void => {
    if (attempts.current) attempts.current.previousStatus = next;
    else status = next;
  };

  const forgetLocally = (reason: ErrorInfo | undefined): void => {
    for (const key of Object.keys(data) as (keyof SessionData)[]) delete data[key];
    setSessionStatus('signed-out');
    error = reason;
    retries.cancel();
  };

  /** What a failed refresh means for the session: ended (sign in again), offline (retry later), or just this call failed. */
  const classify = async (refreshError: unknown): Promise<void> => {
    const code = refreshError instanceof AuthError ? refreshError.code : undefined;
    if (code === 'session_ended' || code === 'signed_out') {
      logger.info('session ended at the provider; signing out', { code });
      // The entry was deleted under the lock already (or by whoever signed out); deleting it here could hit a newer session.
      forgetLocally(code === 'session_ended' ? { code, message: SESSION_ENDED_MESSAGE } : toErrorInfo(refreshError));
      try {
        profileStore.delete(entry.account);
      } catch {
        // Best effort: a cached name without a session shows nothing.
      }
    } else if (code === 'provider_unreachable' || code === 'provider_error') {
      // The refresh token stays: the provider may be back in a minute.
      setSessionStatus('offline');
      error = toErrorInfo(refreshError);
      retries.schedule(() => void refresher.refresh().catch(() => {}));
    } else {
      error = toErrorInfo(refreshError);
    }
    emit();
  };

  const refresher = createRefresher({
    data,
    entry,
    profileStore,
    getProvider,
    clock,
    logger,
    isClosed: () => closed,
    onStart: () => retries.cancel(),
    onRedeemed: () => {
      setSessionStatus('signed-in');
      error = undefined;
      retries.reset();
      emit();
    },
    onFailed: classify,
  });

  const accessTokens = createAccessTokens({ data, refresher, retries, clock, offlineMessage: () => error?.message });

  const cancelLogin = () => attempts.cancel('Sign-in was cancelled.');

  /** Stores a completed sign-in as the session, under the lock, and ends the session it replaces at the provider. */
  const adoptSignIn = async (result: TokenResult & { refreshToken: string }): Promise<void> => {
    const signedInUser: UserProfile = result.user ?? { sub: '' };
    await refresher.whenIdle();
    retries.cancel();
    retries.reset();
    // Under the lock, so a refresh in another process cannot store its rotated token over this new session.
    const lock = await acquireRefreshLock(lockPath, { logger, timeoutMs: 10_000 }).catch(() => undefined);
    const replaced = data.refreshToken;
    try {
      delete data.scope;
      applyTokens(data, result, clock());
      data.user = signedInUser;
      data.knownGeneration = lock ? lock.announceChange() : announceEntryChange(lockPath);
      await entry.write(result.refreshToken, signedInUser.sub, data.scope);
    } finally {
      await lock?.release();
    }
    try {
      profileStore.set(entry.account, { user: signedInUser, lastSignInAt: clock() });
    } catch (profileError) {
      logger.warn('could not cache the profile', { error: String(profileError) });
    }
    logger.info('signed in', { sub: signedInUser.sub, refresh: fingerprint(result.refreshToken) });
    if (replaced && replaced !== result.refreshToken) {
      // The session this sign-in replaces is of no use any more: end it at the provider too (best effort).
      const revocation = getProvider()
        .then((client) => client.revoke(replaced))
        .catch((revokeError: unknown) => logger.warn('could not revoke the replaced session', { error: String(revokeError) }))
        .finally(() => revocations.delete(revocation));
      revocations.add(revocation);
    }
  };

  const login = async (options: { timeoutMs?: number } = {}): Promise<AuthState> => {
    if (closed) throw new AuthError('login_cancelled', 'The session is closed.');
    const attempt = attempts.start(attempts.current ? attempts.current.previousStatus : status);
    status = 'signing-in';
    error = undefined;
    emit();

    try {
      const signingIn = getProvider().then((client) => {
        attempt.signal.throwIfAborted();
        return client.signIn({ opener, signal: attempt.signal, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
      });
      const result = await attempt.race(signingIn);
      if (!attempt.isCurrent()) throw new AuthError('login_cancelled', 'A new sign-in was started; this one was cancelled.');
      if (!result.refreshToken) {
        throw new AuthError(
          'provider_error',
          'The provider signed you in but issued no refresh token, so the session cannot be kept. Allow offline access for this application at the provider (Auth0: enable "Allow Offline Access" on the API).',
        );
      }
      await adoptSignIn({ ...result, refreshToken: result.refreshToken });
      attempts.finish(attempt);
      status = 'signed-in';
      error = undefined;
      emit();
      return getState();
    } catch (loginError) {
      if (attempt.isCurrent()) {
        attempts.finish(attempt);
        status = attempt.previousStatus;
        const code = loginError instanceof AuthError ? loginError.code : undefined;
        // Cancelling is the user's own choice, not an error to show.
        error = code === 'login_cancelled' ? undefined : toErrorInfo(loginError);
        emit();
      }
      throw loginError;
    }
  };

  const logout = async (): Promise<{ endSessionUrl?: string; revoked?: boolean }> => {
    cancelLogin();
    await refresher.whenIdle();
    const tokens = new Set<string>();
    if (data.refreshToken) tokens.add(data.refreshToken);
    const lock = await acquireRefreshLock(lockPath, { logger, timeoutMs: 5_000 }).catch(() => undefined);
    try {
      const stored = await entry.read().catch(() => null);
      if (stored) tokens.add(stored.refresh_token);
      if (lock) lock.announceChange();
      else announceEntryChange(lockPath);
      await entry.remove();
      forgetLocally(undefined);
    } finally {
      await lock?.release();
    }
    logger.info('signed out');
    emit();
    // Revocation after the local sign-out, outside the lock: a slow provider must not hold up other processes.
    const client = await getProvider().catch((providerError: unknown) => {
      logger.warn('provider unreachable at logout; the session was forgotten locally only', { error: String(providerError) });
      return undefined;
    });
    let revoked = client !== undefined || tokens.size === 0;
    for (const token of client ? tokens : []) {
      await client?.revoke(token).catch((revokeError: unknown) => {
        revoked = false;
        logger.warn('revocation failed', { error: String(revokeError), refresh: fingerprint(token) });
      });
    }
    const endSessionUrl = client?.endSessionUrl();
    return endSessionUrl === undefined ? { revoked } : { revoked, endSessionUrl };
  };

  const retryNow = async (): Promise<void> => {
    const sessionStatus = attempts.current ? attempts.current.previousStatus : status;
    if (!data.refreshToken || (sessionStatus !== 'offline' && !refresher.running)) return;
    retries.cancel();
    await refresher.refresh().catch(() => {});
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    cancelLogin();
    closed = true;
    retries.cancel();
    await refresher.whenIdle();
    await Promise.all(revocations);
    listeners.clear();
    await ownHttp?.close();
  };

  // Restore a stored session without any network call.
  try {
    const stored = await entry.read();
    if (stored) {
      data.refreshToken = stored.refresh_token;
      if (stored.scope) data.scope = stored.scope;
      const cached = profileStore.get(entry.account)?.user;
      data.user = cached?.sub === stored.sub ? cached : { sub: stored.sub };
      status = 'signed-in';
    }
  } catch (readError) {
    logger.warn('could not read the keychain entry', { error: String(readError) });
    error = toErrorInfo(readError);
  }

  return {
    getState,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    login,
    cancelLogin,
    logout,
    getAccessToken: accessTokens.get,
    refreshAfterUnauthorized: accessTokens.afterUnauthorized,
    retryNow,
    whenIdle: () => refresher.whenIdle(),
    close,
  };
}
