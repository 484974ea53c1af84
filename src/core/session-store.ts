import type { AuthState, AuthStatus, ErrorInfo, UserProfile } from '../shared/ipc.ts';
import { encodeAccess, isUsableAndNewer, type AccessCache, type AccessToken } from './access-cache.ts';
import type { AuthConfig } from './config.ts';
import { AuthError, toErrorInfo } from './errors.ts';
import { fingerprint, type Logger } from './log.ts';
import type { ProfileStore } from './profile-store.ts';
import type { TokenResult } from './provider-client.ts';
import { acquireRefreshLock, type RefreshLock } from './refresh-lock.ts';
import { openRefreshTurn, type RefreshTurn } from './refresh-turn.ts';
import type { SessionEntry } from './session-entry.ts';

/** What one process holds of a session. The refresh token is also in the keychain entry; the rest only here. */
export interface HeldSession {
  refreshToken?: string;
  scope?: string;
  access?: AccessToken;
  user?: UserProfile;
  /** The entry generation (see RefreshLock) this process last read or wrote the keychain entry at; undefined = re-read it. */
  generation?: string;
}

/** Where a session is kept, known once the keychain is open. */
export interface StoreKeychain {
  entry: SessionEntry;
  accessCache: AccessCache;
  profileStore: ProfileStore;
}

/**
 * The one owner of a session's state in this process: its tokens, the entry's
 * generation, its status and error. Everything else reads it; it changes only
 * through the named transitions below, and every change leaves as a state
 * event. Transactions that write the keychain run under the entry's
 * cross-process lock, and each checks that it still holds the lock before
 * writing (`verifyHeld`).
 */
export interface SessionStore {
  readonly held: Readonly<HeldSession>;
  /** The stored session's status, beneath a sign-in in progress. */
  readonly status: AuthStatus;
  readonly error: ErrorInfo | undefined;
  /** The keychain entry, once the keychain is open (see `open`). */
  readonly entry: SessionEntry | undefined;
  getState(): AuthState;
  onChange(listener: (state: AuthState) => void): () => void;

  /** While starting: the keychain waits on the user (an unlock prompt is open). */
  keychainWaiting(): void;
  /** The keychain is open: the session is kept there from now on (still `starting` until `restore`). */
  open(keychain: StoreKeychain): void;
  /** Reads the stored session into memory, without the lock. One out of reach (keychain locked) keeps the cached user: it is not signed out. */
  restore(options?: { prompt?: boolean }): Promise<void>;
  /** The access token other processes of this session share, read without the lock; undefined when none or not shared. */
  readShared(): Promise<AccessToken | undefined>;
  /** A shared access token read without the lock, adopted when it is usable and newer than ours. */
  adoptShared(candidate: AccessToken | undefined): boolean;
  /** The keychain stopped accepting the session (memory only, or locked): the state says so. */
  noteDegraded(): void;
  /** No more state events (the session is closed). */
  stopEvents(): void;
  beginSignIn(): void;
  /** The sign-in is over; `error` says why it failed, if it did. */
  endSignIn(error: ErrorInfo | undefined): void;
  /** What a failed refresh means for the session: ended (forgotten), offline, or just this call failed. */
  refreshFailed(refreshError: unknown): void;
  /** Shown while signed out (e.g. the provider was not told of a logout). */
  noteSignedOut(notice: ErrorInfo): void;

  /** Under the lock: stores a completed sign-in as the session; resolves to the refresh token it replaced, if any. */
  adoptSignIn(result: TokenResult & { refreshToken: string }): Promise<string | undefined>;
  /** Under the lock: adopts what another process stored, then holds the lock for one refresh (see RefreshTurn). */
  beginRefresh(): Promise<RefreshTurn>;
  /** Under the lock: deletes the entry, the shared access token and the profile; resolves to every refresh token to revoke. */
  forget(): Promise<Set<string>>;
}

export interface SessionStoreDeps {
  config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource'>;
  clock(): number;
  logger: Logger;
  /** A sign-in or sign-out is waiting for another process to finish with the keychain entry. */
  onLockWait?: () => void;
}

export function createSessionStore(deps: SessionStoreDeps): SessionStore {
  const { config, clock, logger } = deps;
  let held: HeldSession = {};
  let status: AuthStatus = 'starting';
  let signingIn = false;
  let error: ErrorInfo | undefined;
  let waiting = false;
  let keychain: StoreKeychain | undefined;
  const listeners = new Set<(state: AuthState) => void>();

  const opened = (): StoreKeychain => {
    if (!keychain) throw new Error('The session is still starting.');
    return keychain;
  };

  const getState = (): AuthState => {
    if (status === 'starting' || !keychain) return waiting ? { status: 'starting', keychainWaiting: true } : { status: 'starting' };
    const state: AuthState = { status: signingIn ? 'signing-in' : status, keychain: keychain.entry.keychain };
    if (held.user) state.user = { ...held.user };
    const shown = error ?? keychain.entry.notice;
    if (shown) state.error = { ...shown };
    const { access } = held;
    if (access) state.accessToken = access.expiresAt === undefined ? { refreshedAt: access.refreshedAt } : { refreshedAt: access.refreshedAt, expiresAt: access.expiresAt };
    return state;
  };

  const emit = (): void => {
    const state = getState();
    for (const listener of listeners) {
      try {
        listener(state);
      } catch (listenerError) {
        logger.error('a state listener threw', { error: String(listenerError) });
      }
    }
  };

  const forgetLocally = (reason: ErrorInfo | undefined): void => {
    held = {};
    status = 'signed-out';
    error = reason;
  };

  const forgetProfile = (): void => {
    try {
      opened().profileStore.delete(opened().entry.account);
    } catch {
      // Best effort: a cached name without a session shows nothing.
    }
  };

  /** The one place a holder checks, before writing the keychain, that the lock is still its own. */
  const verifyHeld = (lock: RefreshLock, what: string): void => {
    if (!lock.isHeld()) logger.warn('writing the keychain entry after the lock was taken over (this process stalled)', { what });
  };

  /**
   * Stores `refreshToken` — with `access` in the same keychain write where it fits, else in its own entry. An
   * unchanged refresh token (`rotated` false) is written only to share the access token with other processes.
   */
  const persist = async (lock: RefreshLock, stored: { refreshToken: string; sub: string; scope: string | undefined; access: AccessToken | undefined; rotated: boolean }): Promise<void> => {
    const { entry, accessCache } = opened();
    const shared = entry.shared ? encodeAccess(config, stored.access) : undefined;
    if (!stored.rotated && !shared) return;
    verifyHeld(lock, 'session entry');
    const fitted = await entry.write(stored.refreshToken, stored.sub, stored.scope, shared);
    if (shared && !fitted) await accessCache.writeOwnEntry(shared);
  };

  const lockEntry = (): Promise<RefreshLock> => acquireRefreshLock(opened().entry.lockPath, { logger, ...(deps.onLockWait ? { onWait: deps.onLockWait } : {}) });

  /** Another process (the app, a CLI) may have rotated the token since we read it: the stored one is then the live one. */
  const adoptStored = async (): Promise<AccessToken | undefined> => {
    const { entry, accessCache, profileStore } = opened();
    const stored = await entry.read();
    if (!stored) throw new AuthError('signed_out', 'You were signed out in another Latchkey window — sign in again.');
    if (stored.refresh_token !== held.refreshToken) {
      logger.info('using the refresh token another process stored', { refresh: fingerprint(stored.refresh_token) });
      held.refreshToken = stored.refresh_token;
      if (stored.scope) held.scope = stored.scope;
      if (held.user?.sub !== stored.sub) held.user = profileStore.get(entry.account)?.user ?? { sub: stored.sub };
    }
    return accessCache.fromEntry(stored.access);
  };

  const adoptShared = (candidate: AccessToken | undefined): boolean => {
    if (!isUsableAndNewer(candidate, held.access, clock())) return false;
    held.access = candidate;
    emit();
    return true;
  };

  /** A refresh may carry fresh ID token claims (a changed name or picture): keep the cache current. */
  const updateProfile = (claims: UserProfile): void => {
    const updated = { ...held.user, ...claims };
    if (JSON.stringify(updated) === JSON.stringify(held.user)) return;
    held.user = updated;
    const { entry, profileStore } = opened();
    try {
      profileStore.set(entry.account, { user: updated, lastSignInAt: profileStore.get(entry.account)?.lastSignInAt ?? clock() });
    } catch (profileError) {
      logger.warn('could not cache the profile', { error: String(profileError) });
    }
  };

  return {
    get held() {
      return held;
    },
    get status() {
      return status;
    },
    get error() {
      return error;
    },
    get entry() {
      return keychain?.entry;
    },
    getState,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    keychainWaiting() {
      if (status !== 'starting' || waiting) return;
      waiting = true;
      emit();
    },
    open(opening) {
      keychain = opening;
    },
    async restore(options = {}) {
      const { entry } = opened();
      const found = await entry.restore(options);
      if (status === 'starting') status = 'signed-out';
      error = found.error;
      if (found.stored) {
        held.refreshToken = found.stored.refresh_token;
        if (found.stored.scope) held.scope = found.stored.scope;
        // The access token the last refresh shared, from the same read: a restart needs no second keychain read.
        const shared = entry.shared ? await opened().accessCache.fromEntry(found.stored.access) : undefined;
        if (isUsableAndNewer(shared, held.access, clock())) held.access = shared;
      }
      if (found.user) {
        held.user = found.user;
        status = 'signed-in';
      } else if (held.user && !held.refreshToken) {
        forgetLocally(found.error);
      }
      emit();
    },
    readShared: () => (keychain?.entry.shared ? keychain.accessCache.read() : Promise.resolve(undefined)),
    adoptShared,
    noteDegraded: emit,
    stopEvents: () => listeners.clear(),
    beginSignIn() {
      signingIn = true;
      error = undefined;
      emit();
    },
    endSignIn(signInError) {
      signingIn = false;
      error = signInError;
      emit();
    },
    refreshFailed(refreshError) {
      const code = refreshError instanceof AuthError ? refreshError.code : undefined;
      if (code === 'session_ended' || code === 'signed_out') {
        logger.info('session ended at the provider; signing out', { code });
        // The entry was deleted under the lock already (or by whoever signed out); deleting it here could hit a newer session.
        // The provider's own words (its error code and description) say why; the message ends with "sign in again".
        forgetLocally(toErrorInfo(refreshError));
        forgetProfile();
      } else {
        // Unreachable or erring providers keep the refresh token: they may be back in a minute.
        if (code === 'provider_unreachable' || code === 'provider_error') status = 'offline';
        error = toErrorInfo(refreshError);
      }
      emit();
    },
    noteSignedOut(notice) {
      if (status !== 'signed-out' || signingIn) return;
      error = notice;
      emit();
    },

    async adoptSignIn(result) {
      const user: UserProfile = result.user ?? { sub: '' };
      const { entry, profileStore } = opened();
      // Under the lock, never without it: a refresh in another process must not store its rotated token over this new session.
      const lock = await lockEntry();
      const replaced = held.refreshToken;
      try {
        held = { refreshToken: result.refreshToken, access: accessOf(result, clock()), user, ...(result.scope ? { scope: result.scope } : {}), generation: lock.announceChange() };
        await persist(lock, { refreshToken: result.refreshToken, sub: user.sub, scope: held.scope, access: held.access, rotated: true });
      } finally {
        await lock.release();
      }
      try {
        profileStore.set(entry.account, { user, lastSignInAt: clock() });
      } catch (profileError) {
        logger.warn('could not cache the profile', { error: String(profileError) });
      }
      status = 'signed-in';
      logger.info('signed in', { sub: user.sub, refresh: fingerprint(result.refreshToken) });
      // No event yet: the sign-in is still shown as in progress until `endSignIn` reports it.
      return replaced !== result.refreshToken ? replaced : undefined;
    },

    async beginRefresh() {
      const { entry, accessCache } = opened();
      // The lock runs on the real clock: its ages are compared across processes.
      const lock = await acquireRefreshLock(entry.lockPath, { logger });
      try {
        let adopted: string | undefined;
        if (entry.shared) {
          if (held.generation === undefined || lock.readGeneration() !== held.generation) {
            const shared = await adoptStored();
            // Another process may have just refreshed: its access token serves our callers, no redeem needed.
            if (isUsableAndNewer(shared, held.access, clock())) {
              logger.info('using the access token another process refreshed', { access: fingerprint(shared.value) });
              held.access = shared;
              held.generation = lock.readGeneration();
              adopted = shared.value;
              status = 'signed-in';
              error = undefined;
              emit();
            }
          }
          if (adopted === undefined) held.generation = lock.announceChange();
        }
        if (adopted === undefined && !held.refreshToken) throw new AuthError('signed_out', 'You are not signed in — sign in first.');
        return openRefreshTurn({
          lock,
          adopted,
          held: { refreshToken: held.refreshToken ?? '', sub: held.user?.sub ?? '' },
          clock,
          logger,
          persist: (stored) => persist(lock, { ...stored, scope: held.scope }),
          rotated: (refreshToken, scope) => {
            held.refreshToken = refreshToken;
            if (scope) held.scope = scope;
          },
          answered: (result, claims) => {
            held.access = accessOf(result, clock());
            if (result.refreshToken) held.refreshToken = result.refreshToken;
            if (result.scope) held.scope = result.scope;
            if (claims && held.user?.sub === claims.sub) updateProfile(claims);
            status = 'signed-in';
            error = undefined;
            emit();
            return held.access;
          },
          endSession: async () => {
            verifyHeld(lock, 'session end');
            await Promise.all([entry.remove(), accessCache.remove()]);
          },
        });
      } catch (beginError) {
        await lock.release();
        throw beginError;
      }
    },

    async forget() {
      const { entry, accessCache } = opened();
      const tokens = new Set<string>();
      if (held.refreshToken) tokens.add(held.refreshToken);
      // Waits for a refresh running in another process: it stores its rotated token first, so that is the token deleted and revoked here.
      const lock = await lockEntry();
      try {
        const stored = await entry.read().catch(() => null);
        if (stored) tokens.add(stored.refresh_token);
        verifyHeld(lock, 'sign-out');
        lock.announceChange();
        await Promise.all([entry.remove(), accessCache.remove()]);
        forgetLocally(undefined);
      } finally {
        await lock.release();
      }
      logger.info('signed out');
      emit();
      return tokens;
    },
  };
}

/** The access token a token response carries (the ID token is not kept: nothing needs it once validated). */
function accessOf(result: TokenResult, now: number): AccessToken {
  return result.expiresAt === undefined ? { value: result.accessToken, refreshedAt: now } : { value: result.accessToken, refreshedAt: now, expiresAt: result.expiresAt };
}
