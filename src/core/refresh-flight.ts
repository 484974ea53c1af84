import type { UserProfile } from '../shared/ipc.ts';
import { isUsable, type AccessCache, type AccessToken } from './access-cache.ts';
import { AuthError } from './errors.ts';
import { fingerprint, type Logger } from './log.ts';
import type { ProfileStore } from './profile-store.ts';
import type { ProviderClient, RotatedToken, TokenResult } from './provider-client.ts';
import { acquireRefreshLock } from './refresh-lock.ts';
import type { SessionEntry } from './session-entry.ts';

/** What one process holds of a session. The refresh token is also in the keychain entry; the rest only here. */
export interface SessionData {
  refreshToken?: string;
  scope?: string;
  access?: AccessToken;
  user?: UserProfile;
  /** The entry generation (see RefreshLock) this process last read or wrote the keychain entry at; undefined = re-read it. */
  knownGeneration?: string;
  /** No refresh token: the long-lived access token in `access` is the session (a GitHub OAuth App), kept until the provider refuses it. */
  accessOnly?: true;
}

/** Takes what a token response carries into `data` (a refresh may omit the refresh token or the scope). The ID token is not kept: nothing needs it once validated (logout names the client by client_id). */
export function applyTokens(data: SessionData, result: TokenResult, now: number): void {
  data.access = { value: result.accessToken, refreshedAt: now };
  if (result.expiresAt !== undefined) data.access.expiresAt = result.expiresAt;
  if (result.refreshToken) data.refreshToken = result.refreshToken;
  if (result.scope) data.scope = result.scope;
}

/** The refreshes of one session: at most one in flight, and the next one only after the last stored its rotated token. */
export interface Refresher {
  /** A new access token: joins the flight waiting for the provider, or starts one once the last is stored. */
  refresh(): Promise<string>;
  /** The flight still waiting for the provider's answer, if any: its callers get the same token. */
  readonly awaitingAnswer: Promise<string> | undefined;
  /** The flight still running (answered or not): settles once its rotated token is stored. */
  readonly running: Promise<void> | undefined;
  /** Resolves once no refresh is running: a rotated refresh token is then in the keychain. */
  whenIdle(): Promise<void>;
}

export interface RefresherDeps {
  data: SessionData;
  entry: SessionEntry;
  accessCache: AccessCache;
  profileStore: ProfileStore;
  getProvider(): Promise<ProviderClient>;
  clock(): number;
  logger: Logger;
  isClosed(): boolean;
  /** A flight starts: nothing else should retry meanwhile. */
  onStart(): void;
  /** The provider answered with a new access token (before the rotated refresh token is stored). */
  onRedeemed(): void;
  /** The flight failed before the provider answered with tokens. */
  onFailed(error: unknown): Promise<void>;
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
 * processes by the entry's lock file; a rotated refresh token is stored before
 * the next refresh can start (RFC 9700 §4.14.2), and before the lock is
 * released, so no process ever redeems a spent token.
 */
export function createRefresher(deps: RefresherDeps): Refresher {
  const { data, entry, logger } = deps;
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
    deps.onStart();
    const token = deferred<string>();
    token.promise.catch(() => {});
    const current: Flight = { token: token.promise, done: Promise.resolve(), redeemed: false };
    const onRedeemed = (accessToken: string) => {
      current.redeemed = true;
      deps.onRedeemed();
      token.resolve(accessToken);
    };
    current.done = redeem(onRedeemed)
      .catch(async (refreshError: unknown) => {
        if (current.redeemed) {
          logger.error('after the refresh', { error: String(refreshError) });
          return;
        }
        await deps.onFailed(refreshError);
        token.reject(refreshError);
      })
      .finally(() => {
        if (flight === current) flight = undefined;
      });
    flight = current;
    return token.promise;
  };

  /**
   * The critical section, under the lock: make sure we hold the live refresh
   * token, redeem it, store the rotated one, release. The keychain is re-read
   * only when another process announced a change since we last synced with it.
   *
   * Persist first: the rotated token is written as soon as the provider's
   * answer arrives, before openid-client checks the ID token (JWKS fetch,
   * signature, clock) — the token just sent is spent, so a check failing on
   * our side must not leave it as the one stored (RFC 9700 §4.14.2).
   */
  const redeem = async (onRedeemed: (accessToken: string) => void): Promise<void> => {
    const client = await deps.getProvider();
    // The lock runs on the real clock: its ages are compared across processes.
    const lock = await acquireRefreshLock(entry.lockPath, { logger });
    let storing: Promise<void> | undefined;
    let caching: Promise<void> | undefined;
    try {
      if (entry.shared) {
        if (data.knownGeneration === undefined || lock.readGeneration() !== data.knownGeneration) {
          await adoptStoredToken();
          // Another process may have just refreshed: its access token serves our callers, no redeem needed.
          if (await adoptCachedAccess()) {
            data.knownGeneration = lock.readGeneration();
            onRedeemed((data.access as AccessToken).value);
            return;
          }
        }
        data.knownGeneration = lock.announceChange();
      }
      if (data.accessOnly && data.access) {
        await confirmStandingAccess(data.access.value, client, onRedeemed);
        return;
      }
      const token = data.refreshToken;
      if (!token) throw new AuthError('signed_out', 'You are not signed in — sign in first.');
      // OpenID Connect Core §12.2: the session stays the signed-in user's, whoever a refreshed ID token names.
      const sub = data.user?.sub ?? '';
      const store = (rotated: RotatedToken) => {
        if (storing || rotated.refreshToken === token) return;
        data.refreshToken = rotated.refreshToken;
        if (rotated.scope) data.scope = rotated.scope;
        storing = entry.write(rotated.refreshToken, sub, data.scope);
      };
      let result: TokenResult;
      try {
        result = await client.refresh(token, { onRotated: store });
      } catch (refreshError) {
        // Deleted while still holding the lock, so a newer session another process stores next is never touched.
        if (refreshError instanceof AuthError && refreshError.code === 'session_ended') await Promise.all([entry.remove(), deps.accessCache.remove()]);
        throw refreshError;
      }
      if (result.refreshToken) store({ refreshToken: result.refreshToken, ...(result.scope ? { scope: result.scope } : {}) });
      const rotated = storing !== undefined;
      if (result.user && sub && result.user.sub !== sub) {
        // These tokens are not used; the rotated refresh token is stored all the same, since the
        // one just sent is spent and redeeming it again would look like reuse and revoke the family.
        logger.warn('refreshed ID token names another user; tokens refused', { rotated });
        throw new AuthError(
          'id_token_invalid',
          'The provider renewed the session for a different user than the one signed in, so Latchkey did not use it. Sign out and sign in again.',
        );
      }
      applyTokens(data, result, deps.clock());
      if (result.user && data.user?.sub === result.user.sub) updateProfile(result.user);
      logger.info('access token refreshed', { access: fingerprint(result.accessToken), refresh: fingerprint(data.refreshToken ?? token), rotated });
      // Callers get the token now; the next refresh still waits for this flight, so the rotated token is stored first.
      onRedeemed(result.accessToken);
      if (data.access && entry.shared) caching = deps.accessCache.write(data.access);
    } finally {
      await caching;
      await storing?.catch((storeError: unknown) => logger.error('storing the rotated refresh token failed', { error: String(storeError) }));
      await lock.release();
    }
  };

  /**
   * A session standing on a long-lived access token has nothing to redeem: a
   * "refresh" asks the provider whether it still accepts that token, and ends
   * the session when it does not.
   */
  const confirmStandingAccess = async (accessToken: string, client: ProviderClient, onRedeemed: (accessToken: string) => void): Promise<void> => {
    if (await client.accessTokenAccepted(accessToken)) {
      onRedeemed(accessToken);
      return;
    }
    await Promise.all([entry.remove(), deps.accessCache.remove()]);
    throw new AuthError('session_ended', 'Your session ended at the provider: it no longer accepts the access token this session stands on (the app was revoked or the token expired). Sign in again.');
  };

  /** Another process (the app, a CLI) may have rotated the token since we read it: the stored one is then the live one. */
  const adoptStoredToken = async (): Promise<void> => {
    const stored = await entry.read();
    if (!stored) throw new AuthError('signed_out', 'You were signed out in another Latchkey window — sign in again.');
    if (stored.access_token !== undefined) {
      if (data.access?.value !== stored.access_token) data.access = { value: stored.access_token, refreshedAt: deps.clock() };
      data.accessOnly = true;
      delete data.refreshToken;
      return;
    }
    delete data.accessOnly;
    if (stored.refresh_token === data.refreshToken) return;
    logger.info('using the refresh token another process stored', { refresh: fingerprint(stored.refresh_token) });
    data.refreshToken = stored.refresh_token;
    if (stored.scope) data.scope = stored.scope;
    if (data.user?.sub !== stored.sub) data.user = deps.profileStore.get(entry.account)?.user ?? { sub: stored.sub };
  };

  /** The shared access token, when it is usable and newer than ours. */
  const adoptCachedAccess = async (): Promise<boolean> => {
    const cached = await deps.accessCache.read();
    if (!cached || cached.value === data.access?.value || !isUsable(cached, deps.clock())) return false;
    if ((cached.expiresAt ?? Infinity) <= (data.access?.expiresAt ?? 0)) return false;
    logger.info('using the access token another process refreshed', { access: fingerprint(cached.value) });
    data.access = cached;
    return true;
  };

  /** A refresh may carry fresh ID token claims (a changed name or picture): keep the cache current. */
  const updateProfile = (claims: UserProfile): void => {
    const updated = { ...data.user, ...claims };
    if (JSON.stringify(updated) === JSON.stringify(data.user)) return;
    data.user = updated;
    try {
      const cached = deps.profileStore.get(entry.account);
      deps.profileStore.set(entry.account, { user: updated, lastSignInAt: cached?.lastSignInAt ?? deps.clock() });
    } catch (profileError) {
      logger.warn('could not cache the profile', { error: String(profileError) });
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
