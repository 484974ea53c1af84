import type { AuthState, AuthStatus, DeviceCodePrompt, UserProfile } from '../../shared/auth-state.ts';
import type { ErrorInfo } from '../../shared/errors.ts';
import { accessFrom, isUsableAndNewer, type AccessToken } from '../entry/shared-access-token.ts';
import type { DpopKey } from '../dpop/key.ts';
import { boundAccess, loadStoredDpopKey, usableWithKey } from '../dpop/binding.ts';
import { AuthError } from '../errors.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import { fingerprint } from '../log.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import { beginRefreshTurn, refreshFailureMeaning, type RefreshTransitions, type RefreshTurn } from './refresh.ts';
import { StateEvents } from './state-events.ts';
import { standsOnOf, type SessionEntry, type StandsOn } from '../entry/entry.ts';
import { heldAfterSignIn, heldTokens, stateOf, withStanding, type SessionMemory, type SessionStateDeps } from './memory.ts';
import { cacheProfile, forgetCachedProfile, lockEntry, removeEntry, writeEntry, type EntryWrite, type StoreKeychain } from './session-keychain.ts';


/**
 * The one owner of a session's state in this process: its tokens, the entry's
 * generation, its status and error. Everything else reads it; it changes only
 * through the named transitions below, and every change a caller can see
 * leaves as a state event (`onChange`). The transactions that write the
 * keychain — adopt a sign-in, a refresh turn (adopt what another process
 * stored, store the rotation), forget — run under the entry's cross-process
 * lock, and check that they still hold it before writing (`verifyHeld`).
 */
export class SessionState {
  #held: SessionMemory = {};
  /** The stored session's status, beneath a sign-in in progress. */
  #status: AuthStatus = 'starting';
  #signingIn = false;
  /** While a sign-in with a code waits for the user: what to enter where (RFC 8628 §3.3). */
  #deviceCode: DeviceCodePrompt | undefined;
  #error: ErrorInfo | undefined;
  #keychainWaiting = false;
  #keychain: StoreKeychain | undefined;
  readonly #events: StateEvents;
  readonly #deps: SessionStateDeps;

  constructor(deps: SessionStateDeps) {
    this.#deps = deps;
    this.#events = new StateEvents(deps.logger);
  }

  get held(): Readonly<SessionMemory> {
    return this.#held;
  }

  /** The stored session's status, beneath a sign-in in progress. */
  get status(): AuthStatus {
    return this.#status;
  }

  get error(): ErrorInfo | undefined {
    return this.#error;
  }

  /** The keychain entry, once the keychain is open (see `open`). */
  get entry(): SessionEntry | undefined {
    return this.#keychain?.entry;
  }

  getState(): AuthState {
    const keychain = this.#keychain;
    return stateOf({ status: this.#status, signingIn: this.#signingIn, keychainWaiting: this.#keychainWaiting, held: this.#held, error: this.#error, deviceCode: this.#deviceCode, ...(keychain ? { entry: keychain.entry } : {}) });
  }

  /** Called on every state change; returns the unsubscribe function. */
  onChange(listener: (state: AuthState) => void): () => void {
    return this.#events.on(listener);
  }

  /** No more state events (the session is closed). */
  stopEvents(): void {
    this.#events.clear();
  }

  /** While starting: the keychain waits on the user (an unlock prompt is open). */
  keychainWaiting(): void {
    if (this.#status !== 'starting' || this.#keychainWaiting) return;
    this.#keychainWaiting = true;
    this.#emit();
  }

  /** The keychain is open: the session is kept there from now on (still `starting` until `restore`). */
  open(keychain: StoreKeychain): void {
    this.#keychain = keychain;
  }

  /** Reads the stored session into memory, without the lock. One out of reach (keychain locked) keeps the cached user: it is not signed out. */
  async restore(options: { prompt?: boolean } = {}): Promise<void> {
    const keychain = this.#opened();
    const found = await keychain.entry.restore(options);
    if (this.#status === 'starting') this.#status = 'signed-out';
    this.#error = found.error;
    if (found.stored) {
      this.#takeStanding(found.stored);
      if (found.stored.scope) this.#held.scope = found.stored.scope;
      const key = await loadStoredDpopKey(found.stored.dpop_key, this.#deps.logger);
      if (key) this.#held.dpop = key;
      // The access token the last refresh shared, from the same read: a restart needs no second keychain read.
      const shared = keychain.entry.shared ? usableWithKey(await keychain.accessCache.fromEntry(found.stored.access, found.stored.sub), this.#held.dpop) : undefined;
      if (isUsableAndNewer(shared, this.#held.access, this.#deps.clock())) this.#held.access = shared;
    }
    if (found.user) {
      this.#held.user = found.user;
      this.#status = 'signed-in';
    } else if (this.#held.user && !this.#held.refreshToken && !this.#held.accessOnly) {
      this.#forgetLocally(found.error);
    }
    this.#emit();
  }

  /** The access token other processes of this session share, read without the lock; undefined when none or not shared. */
  async readShared(): Promise<AccessToken | undefined> {
    const keychain = this.#keychain;
    // A bound token is of use only with the key it is bound to.
    return keychain?.entry.shared ? usableWithKey(await keychain.accessCache.read(this.#held.user?.sub), this.#held.dpop) : undefined;
  }

  /** A shared access token read without the lock, taken when it is usable and newer than ours: another process refreshed. */
  adoptShared(candidate: AccessToken | undefined): boolean {
    if (!isUsableAndNewer(candidate, this.#held.access, this.#deps.clock())) return false;
    this.#held.access = candidate;
    this.#emit();
    return true;
  }

  /** The keychain stopped accepting the session (memory only, or locked): the state says so. */
  noteDegraded(): void {
    this.#emit();
  }

  beginSignIn(): void {
    this.#signingIn = true;
    this.#deviceCode = undefined;
    this.#error = undefined;
    this.#emit();
  }

  /** A sign-in with a code got its codes from the provider: the state shows them until the sign-in ends. */
  showDeviceCode(prompt: DeviceCodePrompt): void {
    if (!this.#signingIn) return;
    this.#deviceCode = prompt;
    this.#emit();
  }

  /** The sign-in is over; `error` says why it failed, if it did. */
  endSignIn(error: ErrorInfo | undefined): void {
    this.#signingIn = false;
    this.#deviceCode = undefined;
    this.#error = error;
    this.#emit();
  }

  /** What a failed refresh means for the session: ended (forgotten here; the entry is gone already), offline, or just this call failed. */
  refreshFailed(refreshError: unknown): void {
    const meaning = refreshFailureMeaning(refreshError);
    if (meaning === 'ended') {
      this.#deps.logger.info('session ended at the provider; signing out', { code: (refreshError as AuthError).code });
      // The provider's own words (its error code and description) say why; the message ends with "sign in again".
      this.#forgetLocally(toErrorInfo(refreshError));
      if (this.#keychain) forgetCachedProfile(this.#keychain);
    } else {
      // Unreachable or erring providers keep the refresh token: they may be back in a minute.
      if (meaning === 'offline') this.#status = 'offline';
      this.#error = toErrorInfo(refreshError);
    }
    this.#emit();
  }

  /** Shown while signed out (e.g. the provider was not told of a logout). */
  noteSignedOut(notice: ErrorInfo): void {
    if (this.#status !== 'signed-out' || this.#signingIn) return;
    this.#error = notice;
    this.#emit();
  }

  /**
   * Under the lock: stores a completed sign-in (bound to `dpop`, if given) as the session — standing on its refresh
   * token, or (`kind` 'access_token') on its long-lived access token; resolves to the refresh token it replaced and its key, if any.
   */
  async adoptSignIn(result: TokenResult, standing: { token: string; kind: StandsOn }, dpop: DpopKey | undefined): Promise<{ token: string; dpop: DpopKey | undefined } | undefined> {
    const keychain = this.#opened();
    const { clock, logger } = this.#deps;
    // Under the lock, never without it: a refresh in another process must not store its rotated token over this new session.
    const lock = await lockEntry(keychain, logger, this.#deps.onLockWait);
    const { refreshToken: replaced, dpop: replacedKey } = this.#held;
    const user: UserProfile = result.user ?? { sub: '' };
    try {
      this.#held = heldAfterSignIn(result, standing, dpop, lock.announceChange(), clock());
      // A long-lived access token is the entry itself: not shared a second time beside it.
      const access = this.#held.accessOnly ? undefined : this.#held.access;
      await this.#write(lock, { refreshToken: standing.token, kind: standing.kind, sub: user.sub, scope: this.#held.scope, access, rotated: true, dpopKey: dpop?.toStored() });
    } finally {
      await lock.release();
    }
    cacheProfile(keychain, logger, user, clock(), true);
    this.#status = 'signed-in';
    logger.info('signed in', { sub: user.sub, [standing.kind === 'access_token' ? 'access' : 'refresh']: fingerprint(standing.token) });
    // No event yet: the sign-in still shows as in progress until `endSignIn` reports it.
    return replaced && replaced !== standing.token ? { token: replaced, dpop: replacedKey } : undefined;
  }

  /** Under the lock: adopts what another process stored, then holds the lock for one refresh (see `beginRefreshTurn`). */
  beginRefresh(): Promise<RefreshTurn> {
    return beginRefreshTurn(this.#opened(), this.#refreshTransitions, this.#deps);
  }

  /** Under the lock: deletes the entry, the shared access token and the profile, and forgets the session; resolves to every token to revoke, with its kind and DPoP key. */
  async forget(): Promise<Map<string, { kind: StandsOn; dpop: DpopKey | undefined }>> {
    const keychain = this.#opened();
    const { logger } = this.#deps;
    const tokens = heldTokens(this.#held);
    // Waits for a refresh running in another process: it stores its rotated token first, so that is the token deleted and revoked here.
    const lock = await lockEntry(keychain, logger, this.#deps.onLockWait);
    try {
      const stored = await keychain.entry.read().catch(() => null);
      if (stored && !tokens.has(standsOnOf(stored).token)) tokens.set(standsOnOf(stored).token, { kind: standsOnOf(stored).kind, dpop: await loadStoredDpopKey(stored.dpop_key, logger) });
      lock.announceChange();
      await removeEntry(keychain, lock, logger, 'sign-out');
      this.#forgetLocally(undefined);
    } finally {
      await lock.release();
    }
    logger.info('signed out');
    this.#emit();
    return tokens;
  }

  #opened(): StoreKeychain {
    if (!this.#keychain) throw new Error('The session is still starting.');
    return this.#keychain;
  }

  #emit(): void {
    this.#events.send(this.getState());
  }

  #write(lock: Parameters<typeof writeEntry>[2], write: EntryWrite): Promise<void> {
    return writeEntry(this.#opened(), this.#deps.config, lock, this.#deps.logger, write);
  }

  #forgetLocally(reason: ErrorInfo | undefined): void {
    this.#held = {};
    this.#status = 'signed-out';
    this.#error = reason;
  }

  /** The named transitions a refresh turn asks of the store. */
  readonly #refreshTransitions: RefreshTransitions = {
    held: () => this.#held,
    takeStored: (stored, dpop) => {
      const keychain = this.#opened();
      this.#takeStanding(stored);
      if (dpop) this.#held.dpop = dpop;
      else delete this.#held.dpop;
      if (stored.scope) this.#held.scope = stored.scope;
      if (this.#held.user?.sub !== stored.sub) this.#held.user = keychain.profileStore.get(keychain.entry.account)?.user ?? { sub: stored.sub };
    },
    takeShared: (access, generation) => {
      this.#held.access = access;
      this.#held.generation = generation;
      this.#takeRedeemed();
    },
    takeRotation: (refreshToken, scope) => {
      this.#held.refreshToken = refreshToken;
      if (scope) this.#held.scope = scope;
    },
    takeAnswer: (result) => {
      const access = { ...accessFrom(result, this.#deps.clock()), ...boundAccess(result, this.#held.dpop) };
      this.#held.access = access;
      if (result.refreshToken) this.#held.refreshToken = result.refreshToken;
      if (result.scope) this.#held.scope = result.scope;
      if (result.user && this.#held.user?.sub === result.user.sub) this.#updateProfile(result.user);
      this.#takeRedeemed();
      return access;
    },
    write: async (lock, write) => {
      if (this.#opened().entry.shared) this.#held.generation = await lock.announceChangeSoon();
      return this.#write(lock, { ...write, scope: this.#held.scope, dpopKey: this.#held.dpop?.toStored() });
    },
  };

  /** The token a stored session stands on becomes the one held: its refresh token, or its long-lived access token. */
  #takeStanding(stored: Parameters<typeof standsOnOf>[0]): void {
    this.#held = withStanding(this.#held, standsOnOf(stored), this.#deps.clock());
  }

  #takeRedeemed(): void {
    this.#status = 'signed-in';
    this.#error = undefined;
    this.#emit();
  }

  /** A refresh may carry fresh ID token claims (a changed name or picture): keep the cache current. */
  #updateProfile(claims: UserProfile): void {
    const updated = { ...this.#held.user, ...claims };
    if (JSON.stringify(updated) === JSON.stringify(this.#held.user)) return;
    this.#held.user = updated;
    cacheProfile(this.#opened(), this.#deps.logger, updated, this.#deps.clock(), false);
  }
}
