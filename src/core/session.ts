import type { AuthState, AuthStatus, ErrorInfo, UserProfile } from '../shared/ipc.ts';
import { AuthError, toErrorInfo } from './errors.ts';
import type { HttpClient } from './http.ts';
import { createLogger, fingerprint } from './log.ts';
import { openProfileStore } from './profile-store.ts';
import type { ProviderClient, TokenResult } from './provider-client.ts';
import { applyTokens, createRefresher, type SessionData } from './refresh-flight.ts';
import { acquireRefreshLock, defaultLockDir, refreshLockPath } from './refresh-lock.ts';
import { openAccessCache } from './access-cache.ts';
import { createAccessTokens } from './access-tokens.ts';
import { createRetrySchedule } from './renewal.ts';
import { backgroundTimers } from './timers.ts';
import { keychainAccount, openSessionEntry, standingToken, type SessionKind } from './session-entry.ts';
import { openKeychain } from './secret-store.ts';
import { createSignInAttempts } from './sign-in-attempts.ts';
import { revokeAtLogout, type LogoutResult } from './revocation.ts';

import type { AuthSession, AuthSessionDeps } from './auth-session.ts';

export type { AuthSession, AuthSessionDeps };

/**
 * Creates the session for `config` and restores a stored one from the
 * keychain, without touching the network: with a stored refresh token the
 * state is 'signed-in' with the cached profile at once, and the first access
 * token is fetched on first need (RFC 6749 §6). The provider is discovered
 * lazily, once, so this works offline.
 *
 * Refreshes go through `createRefresher` (single-flight, cross-process lock,
 * rotated token stored first). A refresh the provider refuses (HTTP 400/401,
 * `classifyProviderAnswer`) ends the session; unreachable providers leave it
 * intact and retry with backoff (`createRetrySchedule`), 429 after Retry-After.
 */
export async function createAuthSession(deps: AuthSessionDeps): Promise<AuthSession> {
  const { config, opener } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger();
  const onWaiting = deps.onKeychainWaiting ? { onWaiting: deps.onKeychainWaiting } : {};
  const secretStore = deps.secretStore ?? (await openKeychain(config.keychainService, { logger, ...onWaiting }));
  const profileStore = deps.profileStore ?? openProfileStore(config.dataDir);
  const lockPath = refreshLockPath(deps.lockDir ?? defaultLockDir(), config.keychainService, keychainAccount(config));
  const entry = openSessionEntry({ config, secretStore, profileStore, lockPath, logger, onDegraded: () => emit(), ...onWaiting });
  const accessCache = openAccessCache({ config, secretStore, refreshAccount: entry.account, logger });
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
    if (data.accessOnly || data.refreshToken) state.standsOn = data.accessOnly ? 'access_token' : 'refresh_token';
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
      // Loaded on first network need: a CLI answering from the shared access token never pays for them.
      provider = Promise.all([import('./provider-client.ts'), import('./http.ts')]).then(([{ connectProvider }, { createHttpClient }]) => {
        const http = deps.http ?? (ownHttp ??= createHttpClient({ caFile: config.caFile }));
        return connectProvider(config, { http, clock, logger, ...(deps.timers ? { timers: deps.timers } : {}) });
      });
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
      // The provider's own words (its error code and description) say why; the message ends with "sign in again".
      forgetLocally(toErrorInfo(refreshError));
      try {
        profileStore.delete(entry.account);
      } catch {
        // Best effort: a cached name without a session shows nothing.
      }
    } else if (code === 'provider_unreachable' || code === 'provider_error') {
      // The refresh token stays: the provider may be back in a minute.
      setSessionStatus('offline');
      error = toErrorInfo(refreshError);
      retries.schedule(() => void refresher.refresh().catch(() => {}), (refreshError as AuthError).retryAfterMs);
    } else {
      error = toErrorInfo(refreshError);
    }
    emit();
  };

  const refresher = createRefresher({
    data,
    entry,
    accessCache,
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

  const accessTokens = createAccessTokens({ data, refresher, retries, clock, readShared: () => (entry.shared ? accessCache.read() : Promise.resolve(undefined)), offlineMessage: () => error?.message });

  const cancelLogin = () => attempts.cancel('Sign-in was cancelled.');

  const lockEntry = () => acquireRefreshLock(lockPath, { logger, ...(deps.onLockWait ? { onWait: deps.onLockWait } : {}) });

  /** Stores a completed sign-in as the session, under the lock, and ends the session it replaces at the provider. */
  const adoptSignIn = async (result: TokenResult, standing: { token: string; kind: SessionKind }): Promise<void> => {
    const signedInUser: UserProfile = result.user ?? { sub: '' };
    await refresher.whenIdle();
    retries.cancel();
    retries.reset();
    // Under the lock, never without it: a refresh in another process must not store its rotated token over this new session.
    const lock = await lockEntry();
    const replaced = data.accessOnly ? { token: data.access?.value, kind: 'access_token' as const } : { token: data.refreshToken, kind: 'refresh_token' as const };
    try {
      delete data.scope;
      applyTokens(data, result, clock());
      if (standing.kind === 'access_token') {
        data.accessOnly = true;
        delete data.refreshToken;
      } else {
        delete data.accessOnly;
      }
      data.user = signedInUser;
      data.knownGeneration = lock.announceChange();
      await entry.write(standing.token, signedInUser.sub, data.scope, standing.kind);
      if (data.access && entry.shared) await accessCache.write(data.access);
    } finally {
      await lock.release();
    }
    try {
      profileStore.set(entry.account, { user: signedInUser, lastSignInAt: clock() });
    } catch (profileError) {
      logger.warn('could not cache the profile', { error: String(profileError) });
    }
    logger.info('signed in', { sub: signedInUser.sub, [standing.kind === 'access_token' ? 'access' : 'refresh']: fingerprint(standing.token) });
    const { token: replacedToken, kind: replacedKind } = replaced;
    if (replacedToken && replacedToken !== standing.token) {
      // The session this sign-in replaces is of no use any more: end it at the provider too (best effort).
      const revocation = getProvider()
        .then((client) => client.revoke(replacedToken, replacedKind))
        .catch((revokeError: unknown) => logger.warn('could not revoke the replaced session', { error: String(revokeError) }))
        .finally(() => revocations.delete(revocation));
      revocations.add(revocation);
    }
  };

  const login = async (options: { timeoutMs?: number } = {}): Promise<AuthState> => {
    if (closed) throw new AuthError('login_cancelled', 'The session is closed.');
    // A sign-in the keychain cannot store would be lost (or kept in memory only): unlock first.
    await entry.assertWritable();
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
      // No refresh token but an access token that does not expire (a GitHub OAuth App): that token is the session.
      const standing = result.refreshToken ? { token: result.refreshToken, kind: 'refresh_token' as const } : result.expiresAt === undefined ? { token: result.accessToken, kind: 'access_token' as const } : undefined;
      if (!standing) {
        throw new AuthError(
          'provider_error',
          'The provider signed you in but issued no refresh token, so the session cannot be kept. Allow offline access for this application at the provider (Auth0: enable "Allow Offline Access" on the API).',
        );
      }
      await adoptSignIn(result, standing);
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

  const logout = async (): Promise<LogoutResult> => {
    // A locked-away session can be neither revoked nor deleted: keep it rather than half sign out.
    if (entry.outOfReach) throw entry.outOfReach;
    cancelLogin();
    await refresher.whenIdle();
    const tokens = new Map<string, SessionKind>();
    if (data.refreshToken) tokens.set(data.refreshToken, 'refresh_token');
    if (data.accessOnly && data.access) tokens.set(data.access.value, 'access_token');
    // Waits for a refresh running in another process: it stores its rotated token first, so that is the token deleted and revoked here.
    const lock = await lockEntry();
    try {
      const stored = await entry.read().catch(() => null);
      if (stored) tokens.set(standingToken(stored).token, standingToken(stored).kind);
      lock.announceChange();
      await Promise.all([entry.remove(), accessCache.remove()]);
      forgetLocally(undefined);
    } finally {
      await lock.release();
    }
    logger.info('signed out');
    emit();
    // Revocation after the local sign-out, outside the lock: a slow provider must not hold up other processes.
    const client = await getProvider().catch((providerError: unknown) => {
      logger.warn('provider unreachable at logout; the session was forgotten locally only', { error: String(providerError) });
      return undefined;
    });
    const revocation = await revokeAtLogout(client, tokens, logger);
    if (revocation.notice && status === 'signed-out' && !attempts.current) {
      error = revocation.notice;
      emit();
    }
    const endSessionUrl = client?.endSessionUrl();
    return endSessionUrl === undefined ? revocation : { ...revocation, endSessionUrl };
  };

  /** Reads the stored session into memory. One out of reach (keychain locked) keeps the cached user: it is not signed out. */
  const restore = async (readOptions: { prompt?: boolean } = {}): Promise<void> => {
    const found = await entry.restore(readOptions);
    error = found.error;
    if (found.stored) {
      const standing = standingToken(found.stored);
      if (standing.kind === 'access_token') {
        data.accessOnly = true;
        data.access = { value: standing.token, refreshedAt: clock() };
      } else {
        data.refreshToken = standing.token;
      }
      if (found.stored.scope) data.scope = found.stored.scope;
    }
    if (found.user) {
      data.user = found.user;
      setSessionStatus('signed-in');
    } else if (data.user && !data.refreshToken && !data.accessOnly) {
      forgetLocally(found.error);
    }
  };

  const retryKeychain = async (mode: 'prompt' | 'check'): Promise<AuthState> => {
    // Without word from the Secret Service, a look is a read, and a read of a refused entry asks again: only the user's click does that.
    if (entry.outOfReach && !closed && (mode === 'prompt' || entry.keychain === 'locked')) {
      await restore({ prompt: mode === 'prompt' });
      emit();
    }
    return getState();
  };

  const retryNow = async (): Promise<void> => {
    if (entry.outOfReach) {
      await retryKeychain('check');
      return;
    }
    const sessionStatus = attempts.current ? attempts.current.previousStatus : status;
    if ((!data.refreshToken && !data.accessOnly) || (sessionStatus !== 'offline' && !refresher.running)) return;
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
  await restore();

  /** Token calls while the stored session is locked away say so, rather than "not signed in". */
  const inReach =
    <A extends unknown[]>(call: (...args: A) => Promise<string>) =>
    async (...args: A): Promise<string> => {
      if (entry.outOfReach && !data.refreshToken) throw entry.outOfReach;
      return call(...args);
    };

  return {
    getState,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    login,
    cancelLogin,
    logout,
    getAccessToken: inReach(accessTokens.get),
    refreshAfterUnauthorized: inReach(accessTokens.afterUnauthorized),
    retryNow,
    retryKeychain,
    whenIdle: () => refresher.whenIdle(),
    close,
  };
}
