import type { AuthState, AuthStatus, ErrorInfo, UserProfile } from '../../shared/ipc.ts';
import type { AuthConfig } from './config.ts';
import { AuthError, toErrorInfo } from './errors.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { createLogger, fingerprint, type Logger } from './log.ts';
import { openProfileStore, type ProfileStore } from './profile-store.ts';
import { connectProvider, type Opener, type ProviderClient, type TokenResult } from './provider-client.ts';
import { acquireRefreshLock, announceEntryChange, refreshLockPath } from './refresh-lock.ts';
import { openKeychain, type SecretStore } from './secret-store.ts';

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

/** What the keychain entry holds: the refresh token and only what is needed to use it. */
export interface StoredSession {
  v: 1;
  refresh_token: string;
  issuer: string;
  client_id: string;
  sub: string;
  scope?: string;
}

/** Timer functions, injectable so tests can step through backoff without sleeping. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
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
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;

/** The keychain account of a session: one entry per issuer and client. */
export function keychainAccount(config: Pick<AuthConfig, 'clientId' | 'issuer'>): string {
  return `${config.clientId}@${config.issuer}`;
}

/**
 * When to renew an access token that expires at `expiresAt`, having been
 * obtained at `refreshedAt`. It is handed out until two seconds (at most half
 * its lifetime) before `expiresAt`: JWT `exp` counts whole seconds, so the
 * token may really expire up to a second before our estimate, and it still has
 * to reach the API. From `refreshAt` on it is still handed out while a refresh
 * runs in the background; from `staleAt` on callers wait for a new one. Both
 * scale with the lifetime, so 5-second tokens work as well as hours.
 */
export function renewalTimes(refreshedAt: number, expiresAt: number): { refreshAt: number; staleAt: number } {
  const lifetime = Math.max(0, expiresAt - refreshedAt);
  const staleAt = expiresAt - Math.min(2_000, lifetime * 0.5);
  return { refreshAt: staleAt - Math.min(60_000, lifetime * 0.25), staleAt };
}

/** The backoff before retry number `attempt` (0-based) after the provider could not be reached: 1 s doubling to 5 min, with jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

interface AccessToken {
  value: string;
  refreshedAt: number;
  expiresAt?: number;
}

interface Flight {
  /** Settles with the new access token as soon as the provider answered. */
  token: Promise<string>;
  /** Settles when the rotated refresh token is stored and the lock released. */
  done: Promise<void>;
  redeemed: boolean;
}

interface PendingLogin {
  controller: AbortController;
  previousStatus: AuthStatus;
  cancelled: (error: AuthError) => void;
}

/**
 * Creates the session for `config` and restores a stored one from the
 * keychain, without touching the network: with a stored refresh token the
 * state is 'signed-in' with the cached profile at once, and the first access
 * token is fetched on first need (RFC 6749 §6). The provider is discovered
 * lazily, once, so this works offline.
 *
 * Refreshes are single-flight within the process and serialized across
 * processes by a lock file; a rotated refresh token is stored before the next
 * refresh can start (RFC 9700 §4.14.2). `invalid_grant` ends the session;
 * unreachable providers leave it intact and retry with backoff.
 */
export async function createAuthSession(deps: AuthSessionDeps): Promise<AuthSession> {
  const { config, opener } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger();
  const timers: Timers = deps.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
  const random = deps.random ?? Math.random;
  const secretStore = deps.secretStore ?? (await openKeychain(config.keychainService, { logger }));
  const profileStore = deps.profileStore ?? openProfileStore(config.dataDir);
  const account = keychainAccount(config);
  const lockPath = refreshLockPath(config.dataDir, account);

  let status: AuthStatus = 'signed-out';
  let user: UserProfile | undefined;
  let error: ErrorInfo | undefined;
  let keychain: 'os' | 'memory-only' = secretStore.kind;
  let keychainNotice: ErrorInfo | undefined = noticeFor(secretStore);
  let refreshToken: string | undefined;
  let scope: string | undefined;
  let idToken: string | undefined;
  let access: AccessToken | undefined;
  let flight: Flight | undefined;
  let queued: Promise<string> | undefined;
  /** The entry generation (see RefreshLock) we last read or wrote the keychain entry at; undefined = re-read it. */
  let knownGeneration: string | undefined;
  let pendingLogin: PendingLogin | undefined;
  let retryTimer: unknown;
  let retryAttempt = 0;
  let provider: Promise<ProviderClient> | undefined = deps.provider ? Promise.resolve(deps.provider) : undefined;
  let ownHttp: HttpClient | undefined;
  let closed = false;
  /** Best-effort revocations still in flight; close() lets them finish, so a short-lived process (the CLI) still sends them. */
  const revocations = new Set<Promise<void>>();
  const listeners = new Set<(state: AuthState) => void>();

  const getState = (): AuthState => {
    const state: AuthState = { status, keychain };
    if (user) state.user = { ...user };
    const shown = error ?? keychainNotice;
    if (shown) state.error = { ...shown };
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
      provider = connectProvider(config, { http, clock, logger });
      // A failed discovery is retried on next need rather than remembered.
      provider.catch(() => {
        provider = undefined;
      });
    }
    return provider;
  };

  const serialize = (token: string, sub: string): string => {
    const entry: StoredSession = { v: 1, refresh_token: token, issuer: config.issuer, client_id: config.clientId, sub };
    if (scope) entry.scope = scope;
    return JSON.stringify(entry);
  };

  /** The stored entry, or null; an entry that is unreadable or for another issuer/client is deleted. */
  const readStored = async (): Promise<StoredSession | null> => {
    const raw = await secretStore.get(account);
    if (raw === null) return null;
    const entry = parseStoredSession(raw);
    if (entry && entry.issuer === config.issuer && entry.client_id === config.clientId) return entry;
    logger.warn('deleting an unusable keychain entry', { account });
    await secretStore.delete(account);
    if (secretStore.kind === 'os') announceEntryChange(lockPath);
    return null;
  };

  /** Writes the entry; if the keychain fails now, the session carries on in memory and the user is told. */
  const persist = async (token: string, sub: string): Promise<void> => {
    if (keychain === 'memory-only' && secretStore.kind === 'os') return;
    try {
      await secretStore.set(account, serialize(token, sub));
    } catch (storeError) {
      logger.warn('keychain write failed; keeping the session in memory only', { error: String(storeError) });
      keychain = 'memory-only';
      keychainNotice = {
        code: 'keychain_unavailable',
        message: 'The OS keychain stopped accepting the session, so it is kept in memory only and won’t survive a restart.',
      };
      // What is left there may be already redeemed; better gone than reused.
      await secretStore.delete(account).catch(() => {});
      emit();
    }
  };

  const deleteEntry = async (): Promise<void> => {
    await secretStore.delete(account).catch((deleteError: unknown) => logger.warn('could not delete the keychain entry', { error: String(deleteError) }));
    try {
      profileStore.delete(account);
    } catch (deleteError) {
      logger.warn('could not delete the cached profile', { error: String(deleteError) });
    }
  };

  const forgetLocally = (reason: ErrorInfo | undefined): void => {
    refreshToken = undefined;
    idToken = undefined;
    access = undefined;
    scope = undefined;
    user = undefined;
    setSessionStatus('signed-out');
    error = reason;
    cancelRetry();
  };

  /** The status of the stored session; while a sign-in is pending it shows 'signing-in' and this is what a failed one returns to. */
  const setSessionStatus = (next: AuthStatus): void => {
    if (pendingLogin) pendingLogin.previousStatus = next;
    else status = next;
  };

  const applyTokens = (result: TokenResult) => {
    access = { value: result.accessToken, refreshedAt: clock() };
    if (result.expiresAt !== undefined) access.expiresAt = result.expiresAt;
    if (result.refreshToken) refreshToken = result.refreshToken;
    if (result.idToken) idToken = result.idToken;
    if (result.scope) scope = result.scope;
  };

  const cancelRetry = () => {
    if (retryTimer !== undefined) timers.clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  const scheduleRetry = () => {
    cancelRetry();
    if (closed) return;
    const wait = retryDelayMs(retryAttempt++, random);
    logger.info('provider unreachable; retrying later', { inMs: wait });
    retryTimer = timers.setTimeout(() => {
      retryTimer = undefined;
      void refresh().catch(() => {});
    }, wait);
  };

  /** A refresh may carry fresh ID token claims (a changed name or picture): keep the cache current. */
  const updateProfile = (claims: UserProfile): void => {
    const updated = { ...user, ...claims };
    if (JSON.stringify(updated) === JSON.stringify(user)) return;
    user = updated;
    try {
      const cached = profileStore.get(account);
      profileStore.set(account, { user: updated, lastSignInAt: cached?.lastSignInAt ?? clock() });
    } catch (profileError) {
      logger.warn('could not cache the profile', { error: String(profileError) });
    }
  };

  const keptInKeychain = () => secretStore.kind === 'os' && keychain === 'os';

  /**
   * The critical section, under the lock: make sure we hold the live refresh
   * token, redeem it, store the rotated one, release. The keychain is re-read
   * only when another process announced a change since we last synced with it.
   */
  const redeem = async (onRedeemed: (accessToken: string) => void): Promise<void> => {
    const client = await getProvider();
    const lock = await acquireRefreshLock(lockPath, { logger });
    try {
      if (keptInKeychain()) {
        if (knownGeneration === undefined || lock.readGeneration() !== knownGeneration) await adoptStoredToken();
        knownGeneration = lock.announceChange();
      }
      const token = refreshToken;
      if (!token) throw new AuthError('signed_out', 'You are not signed in — sign in first.');
      let result: TokenResult;
      try {
        result = await client.refresh(token);
      } catch (refreshError) {
        // Deleted while still holding the lock, so a newer session another process stores next is never touched.
        if (refreshError instanceof AuthError && refreshError.code === 'session_ended') await deleteEntry();
        throw refreshError;
      }
      const rotated = result.refreshToken !== undefined && result.refreshToken !== token;
      const expectedSub = user?.sub;
      if (result.user && expectedSub && result.user.sub !== expectedSub) {
        // OpenID Connect Core §12.2: a refreshed ID token names the same user. These tokens are not
        // used; the rotated refresh token is still stored, since the one just sent is spent and
        // redeeming it again would look like reuse and revoke the whole family.
        if (rotated) {
          refreshToken = result.refreshToken;
          await persist(result.refreshToken as string, expectedSub);
        }
        logger.warn('refreshed ID token names another user; tokens refused', { rotated });
        throw new AuthError(
          'id_token_invalid',
          'The provider renewed the session for a different user than the one signed in, so Latchkey did not use it. Sign out and sign in again.',
        );
      }
      applyTokens(result);
      if (result.user && user?.sub === result.user.sub) updateProfile(result.user);
      logger.info('access token refreshed', { access: fingerprint(result.accessToken), refresh: fingerprint(refreshToken ?? token), rotated });
      // Callers get the token now; the next refresh still waits for this flight, so the rotated token is stored first.
      onRedeemed(result.accessToken);
      if (rotated) await persist(refreshToken ?? token, user?.sub ?? '');
    } finally {
      await lock.release();
    }
  };

  /** Another process (the app, a CLI) may have rotated the token since we read it: the stored one is then the live one. */
  const adoptStoredToken = async (): Promise<void> => {
    const stored = await readStored();
    if (!stored) throw new AuthError('signed_out', 'You were signed out in another Latchkey window — sign in again.');
    if (stored.refresh_token === refreshToken) return;
    logger.info('using the refresh token another process stored', { refresh: fingerprint(stored.refresh_token) });
    refreshToken = stored.refresh_token;
    if (stored.scope) scope = stored.scope;
    if (user?.sub !== stored.sub) user = profileStore.get(account)?.user ?? { sub: stored.sub };
  };

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
    if (closed) return Promise.reject(new AuthError('signed_out', 'The session is closed.'));
    cancelRetry();
    const token = deferred<string>();
    token.promise.catch(() => {});
    const current: Flight = { token: token.promise, done: Promise.resolve(), redeemed: false };
    const onRedeemed = (accessToken: string) => {
      current.redeemed = true;
      setSessionStatus('signed-in');
      error = undefined;
      retryAttempt = 0;
      token.resolve(accessToken);
      emit();
    };
    current.done = redeem(onRedeemed)
      .catch(async (refreshError: unknown) => {
        if (current.redeemed) {
          logger.error('after the refresh', { error: String(refreshError) });
          return;
        }
        await classify(refreshError);
        token.reject(refreshError);
      })
      .finally(() => {
        if (flight === current) flight = undefined;
      });
    flight = current;
    return token.promise;
  };

  const classify = async (refreshError: unknown): Promise<void> => {
    const code = refreshError instanceof AuthError ? refreshError.code : undefined;
    if (code === 'session_ended' || code === 'signed_out') {
      logger.info('session ended at the provider; signing out', { code });
      // The entry was deleted under the lock already (or by whoever signed out); deleting it here could hit a newer session.
      forgetLocally(code === 'session_ended' ? { code, message: SESSION_ENDED_MESSAGE } : toErrorInfo(refreshError));
      try {
        profileStore.delete(account);
      } catch {
        // Best effort: a cached name without a session shows nothing.
      }
    } else if (code === 'provider_unreachable' || code === 'provider_error') {
      // The refresh token stays: the provider may be back in a minute.
      setSessionStatus('offline');
      error = toErrorInfo(refreshError);
      scheduleRetry();
    } else {
      error = toErrorInfo(refreshError);
    }
    emit();
  };

  const requireSession = () => {
    if (!refreshToken) throw new AuthError('signed_out', 'You are not signed in — sign in first.');
  };

  /** While offline with a retry scheduled, callers needing a new token fail fast instead of defeating the backoff; `retryNow()` overrides. */
  const refreshUnlessBackingOff = (): Promise<string> => {
    if (retryTimer !== undefined && !flight) {
      return Promise.reject(new AuthError('provider_unreachable', error?.message ?? 'The provider cannot be reached right now; Latchkey keeps retrying.'));
    }
    return refresh();
  };

  const getAccessToken = async (): Promise<string> => {
    requireSession();
    const now = clock();
    if (access && access.expiresAt === undefined) return access.value;
    if (access && access.expiresAt !== undefined) {
      const { refreshAt, staleAt } = renewalTimes(access.refreshedAt, access.expiresAt);
      if (now < refreshAt) return access.value;
      if (now < staleAt) {
        // Refresh ahead: hand out the still-valid token, renew it in the background (single-flight).
        if (retryTimer === undefined) void refresh().catch(() => {});
        return access.value;
      }
    }
    return refreshUnlessBackingOff();
  };

  const refreshAfterUnauthorized = async (rejectedToken: string): Promise<string> => {
    requireSession();
    if (flight && !flight.redeemed) return flight.token;
    if (access && access.value !== rejectedToken) return getAccessToken();
    if (flight) {
      await flight.done;
      if (access && access.value !== rejectedToken) return getAccessToken();
    }
    return refreshUnlessBackingOff();
  };

  const cancelLogin = () => {
    pendingLogin?.cancelled(new AuthError('login_cancelled', 'Sign-in was cancelled.'));
  };

  const login = async (options: { timeoutMs?: number } = {}): Promise<AuthState> => {
    if (closed) throw new AuthError('login_cancelled', 'The session is closed.');
    const previousStatus = pendingLogin ? pendingLogin.previousStatus : status;
    pendingLogin?.cancelled(new AuthError('login_cancelled', 'A new sign-in was started; this one was cancelled.'));

    const controller = new AbortController();
    let cancelled!: (reason: AuthError) => void;
    const cancellation = new Promise<never>((_, reject) => {
      cancelled = (reason) => {
        controller.abort(reason);
        reject(reason);
      };
    });
    cancellation.catch(() => {});
    const attempt: PendingLogin = { controller, previousStatus, cancelled };
    pendingLogin = attempt;
    status = 'signing-in';
    error = undefined;
    emit();

    const isCurrent = () => pendingLogin === attempt;
    try {
      const result = await Promise.race([
        (async () => {
          const client = await getProvider();
          controller.signal.throwIfAborted();
          const signInOptions: { opener: Opener; timeoutMs?: number; signal: AbortSignal } = { opener, signal: controller.signal };
          if (options.timeoutMs !== undefined) signInOptions.timeoutMs = options.timeoutMs;
          return client.signIn(signInOptions);
        })(),
        cancellation,
      ]);
      if (!isCurrent()) throw new AuthError('login_cancelled', 'A new sign-in was started; this one was cancelled.');
      if (!result.refreshToken) {
        throw new AuthError(
          'provider_error',
          'The provider signed you in but issued no refresh token, so the session cannot be kept. Allow offline access for this application at the provider (Auth0: enable "Allow Offline Access" on the API).',
        );
      }
      const signedInUser: UserProfile = result.user ?? { sub: '' };
      await waitForFlight();
      cancelRetry();
      retryAttempt = 0;
      // Under the lock, so a refresh in another process cannot store its rotated token over this new session.
      const lock = await acquireRefreshLock(lockPath, { logger, timeoutMs: 10_000 }).catch(() => undefined);
      const replaced = refreshToken;
      try {
        scope = undefined;
        idToken = undefined;
        applyTokens(result);
        user = signedInUser;
        knownGeneration = lock ? lock.announceChange() : announceEntryChange(lockPath);
        await persist(result.refreshToken, signedInUser.sub);
      } finally {
        await lock?.release();
      }
      try {
        profileStore.set(account, { user: signedInUser, lastSignInAt: clock() });
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
      pendingLogin = undefined;
      status = 'signed-in';
      error = undefined;
      emit();
      return getState();
    } catch (loginError) {
      if (isCurrent()) {
        pendingLogin = undefined;
        status = attempt.previousStatus;
        const code = loginError instanceof AuthError ? loginError.code : undefined;
        // Cancelling is the user's own choice, not an error to show.
        error = code === 'login_cancelled' ? undefined : toErrorInfo(loginError);
        emit();
      }
      throw loginError;
    }
  };

  const waitForFlight = async () => {
    while (flight) await flight.done;
  };

  const logout = async (): Promise<{ endSessionUrl?: string; revoked?: boolean }> => {
    cancelLogin();
    await waitForFlight();
    const hint = idToken;
    const tokens = new Set<string>();
    if (refreshToken) tokens.add(refreshToken);
    const lock = await acquireRefreshLock(lockPath, { logger, timeoutMs: 5_000 }).catch(() => undefined);
    try {
      const stored = await readStored().catch(() => null);
      if (stored) tokens.add(stored.refresh_token);
      if (lock) lock.announceChange();
      else announceEntryChange(lockPath);
      knownGeneration = undefined;
      await deleteEntry();
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
    const endSessionUrl = client?.endSessionUrl(hint);
    return endSessionUrl === undefined ? { revoked } : { revoked, endSessionUrl };
  };

  const retryNow = async (): Promise<void> => {
    const sessionStatus = pendingLogin ? pendingLogin.previousStatus : status;
    if (!refreshToken || (sessionStatus !== 'offline' && !flight)) return;
    cancelRetry();
    await refresh().catch(() => {});
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    cancelLogin();
    closed = true;
    cancelRetry();
    await waitForFlight();
    await Promise.all(revocations);
    listeners.clear();
    await ownHttp?.close();
  };

  // Restore a stored session without any network call.
  try {
    const stored = await readStored();
    if (stored) {
      refreshToken = stored.refresh_token;
      if (stored.scope) scope = stored.scope;
      user = profileStore.get(account)?.user ?? { sub: stored.sub };
      if (user.sub !== stored.sub) user = { sub: stored.sub };
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
    getAccessToken,
    refreshAfterUnauthorized,
    retryNow,
    whenIdle: waitForFlight,
    close,
  };
}

/** The keychain entry parsed and checked, or undefined when it is not one of ours. */
export function parseStoredSession(raw: string): StoredSession | undefined {
  try {
    const value = JSON.parse(raw) as Partial<StoredSession>;
    if (
      value.v === 1 &&
      typeof value.refresh_token === 'string' &&
      value.refresh_token !== '' &&
      typeof value.issuer === 'string' &&
      typeof value.client_id === 'string' &&
      typeof value.sub === 'string'
    ) {
      const entry: StoredSession = { v: 1, refresh_token: value.refresh_token, issuer: value.issuer, client_id: value.client_id, sub: value.sub };
      if (typeof value.scope === 'string') entry.scope = value.scope;
      return entry;
    }
  } catch {
    // Not JSON: not ours.
  }
  return undefined;
}

function noticeFor(store: SecretStore): ErrorInfo | undefined {
  if (store.kind === 'os') return undefined;
  return {
    code: 'keychain_unavailable',
    message: store.reason ?? 'No OS keychain is available, so your session is kept in memory only and won’t survive a restart.',
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
