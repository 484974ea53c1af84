import type { AuthState, AuthStatus, DeviceCodePrompt, StandsOn, UserProfile } from '../../shared/auth-state.ts';
import { toErrorInfo, type ErrorInfo } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { randomUUID } from 'node:crypto';
import type { ApiConfig } from '../config/apis.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { loadStoredDpopKey, type DpopKey } from '../dpop/key.ts';
import type { AccountRecord } from '../accounts/account-index.ts';
import type { SessionEntry } from '../entry/entry.ts';
import { standsOnOf, type StoredSession } from '../entry/format.ts';
import type { AuthError } from '../errors.ts';
import { fingerprint } from '../log.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import { accessFrom, isUsableAndNewer, usableWithKey, type AccessToken } from '../tokens/access-token.ts';
import { refreshFailureMeaning } from '../tokens/refresher.ts';

/** What one process keeps of a session in memory. The token it stands on is also in the keychain entry; the rest only here. */
export interface SessionMemory {
  /** Set while a session is in memory: what it stands on. */
  standsOn?: StandsOn;
  /** The refresh token, when the session stands on one. */
  refreshToken?: string;
  scope?: string;
  /** The access token callers get; for a session standing on a long-lived access token, that token (it never expires here). */
  access?: AccessToken;
  user?: UserProfile;
  /** The session's DPoP key (RFC 9449) when its tokens are bound; also in the keychain entry. */
  dpop?: DpopKey;
  /** The entry generation (see EntryLock) this memory is known to match; undefined: read the entry again under the lock before redeeming. */
  generation?: string;
  /** Which sign-in the session is (the entry's `sign_in`): the shared tokens of its other APIs carry it. */
  signIn?: string;
  /** The access tokens of the APIs after the first (whose token is `access`), by API name. */
  apiAccess?: Record<string, AccessToken>;
}

export interface SessionStateDeps {
  config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource' | 'apis'>;
  clock(): number;
  logger: Logger;
  /** A sign-in or sign-out is waiting for another process to finish with the keychain entry. */
  onLockWait?: () => void;
}

/**
 * The one owner of a session's state in this process: what it keeps in
 * memory, its status and error. Everything else reads it; it changes only
 * through the named transitions below, and a change a caller can see leaves as
 * a state event from one place (`#changed`). The transactions that change the
 * keychain entry — adopt a sign-in, forget — take the entry's cross-process
 * lock; a refresh is its own transaction (refresh.ts), which asks this owner
 * to take what it read and what the provider answered.
 */
export class SessionState {
  #memory: SessionMemory = {};
  /** The stored session's status, beneath a sign-in in progress. */
  #status: AuthStatus = 'starting';
  #signingIn = false;
  /** While a device sign-in waits for the user: what to enter where (RFC 8628 §3.3). */
  #deviceCode: DeviceCodePrompt | undefined;
  #error: ErrorInfo | undefined;
  #keychainWaiting = false;
  #entry: SessionEntry | undefined;
  /** The account this session acts for; undefined while none is signed in (or before the first is known). */
  #account: AccountRecord | undefined;
  readonly #listeners = new Set<(state: AuthState) => void>();
  readonly #deps: SessionStateDeps;

  constructor(deps: SessionStateDeps) {
    this.#deps = deps;
  }

  get memory(): Readonly<SessionMemory> {
    return this.#memory;
  }

  /** True while a session is in memory (on a refresh token or a long-lived access token). */
  get hasSession(): boolean {
    return this.#memory.standsOn !== undefined;
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
    return this.#entry;
  }

  /** The account this session acts for, if one is known. */
  get account(): AccountRecord | undefined {
    return this.#account;
  }

  /** The state the window and the CLI see. */
  getState(): AuthState {
    const entry = this.#entry;
    if (this.#status === 'starting' || !entry) return this.#keychainWaiting ? { status: 'starting', keychainWaiting: true } : { status: 'starting' };
    const memory = this.#memory;
    const state: AuthState = { status: this.#signingIn ? 'signing-in' : this.#status, keychain: entry.keychain };
    if (this.#account) state.account = this.#account.name;
    if (memory.user) state.user = { ...memory.user };
    if (memory.standsOn) state.standsOn = memory.standsOn;
    const shown = this.#error ?? entry.notice;
    if (shown) state.error = { ...shown };
    const { access } = memory;
    if (access) state.accessToken = tokenTimes(access);
    const apiTokens = Object.entries(memory.apiAccess ?? {});
    if (apiTokens.length > 0) state.apiTokens = Object.fromEntries(apiTokens.map(([name, token]) => [name, tokenTimes(token)]));
    if (this.#signingIn && this.#deviceCode) state.deviceCode = { ...this.#deviceCode };
    return state;
  }

  /** Called on every state change; returns the unsubscribe function. */
  onChange(listener: (state: AuthState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** No more state events (the session is closed). */
  stopEvents(): void {
    this.#listeners.clear();
  }

  /** While starting: the keychain waits on the user (an unlock prompt is open). */
  keychainWaiting(): void {
    if (this.#status !== 'starting' || this.#keychainWaiting) return;
    this.#keychainWaiting = true;
    this.#changed();
  }

  /** The keychain is open: the session is kept in this entry, `account`'s, from now on (still `starting` until `restore`). */
  open(entry: SessionEntry, account?: AccountRecord): void {
    this.#entry = entry;
    this.#account = account;
  }

  /** The account this session acts for is now `account` (its entry is the one open): the index has it. */
  setAccount(account: AccountRecord | undefined): void {
    if (JSON.stringify(account) === JSON.stringify(this.#account)) return;
    this.#account = account;
    this.#changed();
  }

  /**
   * During a sign-in that came back as another account than the one in memory: the session now acts for that
   * account, in its own entry. Nothing of the previous account is touched — its entry stays signed in — only
   * this process's memory of it is let go.
   */
  switchTo(entry: SessionEntry, account: AccountRecord | undefined): void {
    this.#entry = entry;
    this.#account = account;
    this.#memory = {};
    this.#status = 'signed-out';
    this.#error = undefined;
  }

  /**
   * Reads the stored session into memory, without the lock — with the access token shared in the same entry, so a
   * restart needs no second keychain read. One out of reach (keychain locked) keeps the cached user: it is not signed out.
   */
  async restore(options: { prompt?: boolean } = {}): Promise<void> {
    const found = await this.#opened().restore(options);
    const key = found.stored ? await loadStoredDpopKey(found.stored.dpop_key) : undefined;
    if (this.#status === 'starting') this.#status = 'signed-out';
    this.#error = found.error;
    if (found.stored) {
      this.#takeStored(found.stored, key, found.generation);
      const shared = usableWithKey(found.shared, this.#memory.dpop);
      if (isUsableAndNewer(shared, this.#memory.access, this.#deps.clock())) this.#memory.access = shared;
    }
    if (found.user) {
      this.#memory.user = found.user;
      this.#status = 'signed-in';
    } else if (this.#memory.user && !this.hasSession) {
      this.#forgetLocally(found.error);
    }
    this.#changed();
  }

  /**
   * Without the lock: takes the access token another process shared, when the entry changed since this process
   * last read or wrote it and that token is usable and newer than ours — another process refreshed, so this one need not.
   */
  async adoptShared(): Promise<void> {
    const entry = this.#entry;
    if (!entry?.shared) return;
    // A bound token is of use only with the key it is bound to.
    const candidate = usableWithKey(await entry.sharedSince(this.#memory.generation, this.#memory.user?.sub), this.#memory.dpop);
    if (!isUsableAndNewer(candidate, this.#memory.access, this.#deps.clock())) return;
    this.#memory.access = candidate;
    this.#changed();
  }

  /** Without the lock: takes the token of a second API (`api`) another process shared for this sign-in, when it is usable and newer than ours. */
  async adoptSharedApi(api: ApiConfig): Promise<void> {
    const entry = this.#entry;
    if (!entry?.shared) return;
    const candidate = usableWithKey(await entry.readApiToken(api, { sub: this.#memory.user?.sub, signIn: this.#memory.signIn }), this.#memory.dpop);
    if (!isUsableAndNewer(candidate, this.#memory.apiAccess?.[api.name], this.#deps.clock())) return;
    this.takeSharedApi(api, candidate);
  }

  /** The keychain stopped accepting the session (memory only, or locked): the state says so. */
  noteDegraded(): void {
    this.#changed();
  }

  beginSignIn(): void {
    this.#signingIn = true;
    this.#deviceCode = undefined;
    this.#error = undefined;
    this.#changed();
  }

  /** A device sign-in got its codes from the provider: the state shows them until the sign-in ends. */
  showDeviceCode(prompt: DeviceCodePrompt): void {
    if (!this.#signingIn) return;
    this.#deviceCode = prompt;
    this.#changed();
  }

  /** The sign-in is over; `error` says why it failed, if it did. */
  endSignIn(error: ErrorInfo | undefined): void {
    this.#signingIn = false;
    this.#deviceCode = undefined;
    this.#error = error;
    this.#changed();
  }

  /** What a failed refresh means for the session: ended (forgotten here; the entry is gone already), offline, or just this call failed. */
  refreshFailed(refreshError: unknown): void {
    const meaning = refreshFailureMeaning(refreshError);
    if (meaning === 'ended') {
      this.#deps.logger.info('session ended at the provider; signing out', { code: (refreshError as AuthError).code });
      // The provider's own words (its error code and description) say why; the message ends with "sign in again".
      this.#forgetLocally(toErrorInfo(refreshError));
      this.#entry?.forgetProfile();
    } else {
      // Unreachable or erring providers keep the refresh token: they may be back in a minute.
      if (meaning === 'offline') this.#status = 'offline';
      this.#error = toErrorInfo(refreshError);
    }
    this.#changed();
  }

  /** Shown while signed out (e.g. the provider was not told of a sign-out). */
  noteSignedOut(notice: ErrorInfo): void {
    if (this.#status !== 'signed-out' || this.#signingIn) return;
    this.#error = notice;
    this.#changed();
  }

  /**
   * Under the lock: stores a completed sign-in (bound to `dpop`, if given) as the session — standing on its refresh
   * token, or on its long-lived access token; resolves to the refresh token it replaced and its key, if any.
   * No event yet: the sign-in still shows as in progress until `endSignIn` reports it.
   */
  async adoptSignIn(result: TokenResult, standing: { token: string; standsOn: StandsOn }, dpop: DpopKey | undefined): Promise<{ token: string; dpop: DpopKey | undefined } | undefined> {
    const entry = this.#opened();
    const { clock, logger } = this.#deps;
    // Under the lock, never without it: a refresh in another process must not store its rotated token over this new session.
    const lock = await entry.lock(this.#deps.onLockWait);
    let { refreshToken: replaced, dpop: replacedKey } = this.#memory;
    const user: UserProfile = result.user ?? { sub: '' };
    try {
      if (!this.hasSession && entry.shared) {
        // Renewing an account this process did not have in memory (it switched to it): what it replaces is in its entry.
        const stored = (await entry.read().catch(() => null))?.stored;
        // Another process stored another user here meanwhile (two first sign-ins at once): never over it.
        if (stored && user.sub && stored.sub !== user.sub) throw new EntryTakenError(stored.sub);
        if (stored?.refresh_token !== undefined && stored.sub === user.sub) {
          replaced = stored.refresh_token;
          replacedKey = await loadStoredDpopKey(stored.dpop_key);
        }
      }
      const access = accessFrom(result, clock(), dpop);
      this.#memory = {
        standsOn: standing.standsOn,
        ...(standing.standsOn === 'refresh_token' ? { refreshToken: standing.token } : {}),
        access,
        user,
        ...(result.scope ? { scope: result.scope } : {}),
        ...(dpop ? { dpop } : {}),
        generation: lock.announceChange(),
        // Only the tokens of a second API need to know which sign-in they are of: one API's entry stays as it was.
        ...(this.#deps.config.apis.length > 1 ? { signIn: randomUUID() } : {}),
      };
      // A long-lived access token is the entry itself: not shared a second time beside it.
      const shared = standing.standsOn === 'access_token' ? undefined : access;
      await entry.write(lock, { token: standing.token, standsOn: standing.standsOn, sub: user.sub, scope: this.#memory.scope, access: shared, rotated: true, dpopKey: dpop?.toStored(), signIn: this.#memory.signIn });
    } finally {
      await lock.release();
    }
    entry.cacheProfile(user, clock(), true);
    this.#status = 'signed-in';
    logger.info('signed in', { sub: user.sub, [standing.standsOn === 'access_token' ? 'access' : 'refresh']: fingerprint(standing.token) });
    return replaced && replaced !== standing.token ? { token: replaced, dpop: replacedKey } : undefined;
  }

  /** Under the lock: deletes the entry, the shared access token and the profile, and forgets the session; resolves to every token to revoke, with what it is and its DPoP key. */
  async forget(): Promise<Map<string, { standsOn: StandsOn; dpop: DpopKey | undefined }>> {
    const entry = this.#opened();
    const { logger } = this.#deps;
    const tokens = tokensToRevoke(this.#memory);
    // Waits for a refresh running in another process: it stores its rotated token first, so that is the token deleted and revoked here.
    const lock = await entry.lock(this.#deps.onLockWait);
    try {
      const stored = (await entry.read({}, lock).catch(() => null))?.stored;
      const standing = stored ? standsOnOf(stored) : undefined;
      if (stored && standing && !tokens.has(standing.token)) tokens.set(standing.token, { standsOn: standing.standsOn, dpop: await loadStoredDpopKey(stored.dpop_key) });
      lock.announceChange();
      await entry.remove(lock, 'sign-out');
      this.#forgetLocally(undefined);
      this.#account = undefined;
    } finally {
      await lock.release();
    }
    logger.info('signed out');
    this.#changed();
    return tokens;
  }

  // The steps a refresh (refresh.ts) asks of the owner, under the entry's lock.

  /**
   * Another process changed the entry since this one read it: what it stored (and the key stored with it) is the
   * live session, as of `generation`. The refresh that read it says how it ends (`takeShared`, `takeAnswer`, a failure).
   */
  takeStored(stored: StoredSession, dpop: DpopKey | undefined, generation: string | undefined): void {
    // Another user's session: the state says so now, not only once the refresh ends.
    if (this.#takeStored(stored, dpop, generation)) this.#changed();
  }

  /** Another process just refreshed: its access token serves our callers. */
  takeShared(access: AccessToken): void {
    this.#memory.access = access;
    this.#redeemed();
  }

  /** Another process (or this one, unlocked) shared a newer token of a second API: it serves our callers. */
  takeSharedApi(api: ApiConfig, access: AccessToken): void {
    this.#memory.apiAccess = { ...this.#memory.apiAccess, [api.name]: access };
    this.#redeemed();
  }

  /** An entry stored before sign-ins had an id gets one, written with the next change of the entry. */
  ensureSignIn(): string {
    return (this.#memory.signIn ??= randomUUID());
  }

  /** The entry was written at `generation` by this process: memory matches it. */
  synced(generation: string | undefined): void {
    if (generation === undefined) delete this.#memory.generation;
    else this.#memory.generation = generation;
  }

  /** The rotated refresh token, in memory the moment the provider's answer arrives (before its checks). */
  takeRotation(refreshToken: string, scope: string | undefined): void {
    this.#memory.refreshToken = refreshToken;
    if (scope) this.#memory.scope = scope;
  }

  /** The checked answer to a refresh becomes the session's; returns the access token now in memory. */
  takeAnswer(result: TokenResult): AccessToken {
    const access = accessFrom(result, this.#deps.clock(), this.#memory.dpop, this.#memory.access);
    this.#memory.access = access;
    if (result.refreshToken) this.#memory.refreshToken = result.refreshToken;
    if (result.scope) this.#memory.scope = result.scope;
    if (result.user && this.#memory.user?.sub === result.user.sub) this.#updateProfile(result.user);
    this.#redeemed();
    return access;
  }

  /** The checked answer to a refresh for a second API: its access token becomes that API's, its rotated refresh token the session's. */
  takeApiAnswer(api: ApiConfig, result: TokenResult): AccessToken {
    const access = accessFrom(result, this.#deps.clock(), this.#memory.dpop, this.#memory.apiAccess?.[api.name] ?? this.#memory.access);
    this.#memory.apiAccess = { ...this.#memory.apiAccess, [api.name]: access };
    if (result.refreshToken) this.#memory.refreshToken = result.refreshToken;
    this.#redeemed();
    return access;
  }

  #opened(): SessionEntry {
    if (!this.#entry) throw new Error('The session is still starting.');
    return this.#entry;
  }

  /** The one place state events leave: a transition that changed what callers can see ends here. */
  #changed(): void {
    const state = this.getState();
    for (const listener of this.#listeners) {
      try {
        listener(state);
      } catch (listenerError) {
        this.#deps.logger.error('a state listener threw', { error: String(listenerError) });
      }
    }
  }

  /**
   * The token a stored session stands on becomes the one in memory — its refresh token, or its long-lived access
   * token — with its key, scope and user. Returns true when the entry is another user's than the one in memory:
   * another process (whose data folder may differ from this one's) signed someone else in over it. Then memory
   * follows the entry's user, and keeps no access token of the one before: what this process hands out and what it
   * shows always belong to the user of the entry it read.
   */
  #takeStored(stored: StoredSession, dpop: DpopKey | undefined, generation: string | undefined): boolean {
    const { token, standsOn } = standsOnOf(stored);
    const next: SessionMemory = { ...this.#memory, standsOn };
    const before = this.#memory.user?.sub;
    const userChanged = before !== undefined && before !== stored.sub;
    if (before !== stored.sub) {
      next.user = this.#opened().profileOf(stored.sub);
      delete next.access;
    }
    if (userChanged) this.#deps.logger.warn('the keychain entry now holds another user’s session (signed in by another process): this process is that user’s from now on', { was: before, now: stored.sub });
    if (standsOn === 'refresh_token') {
      next.refreshToken = token;
    } else {
      delete next.refreshToken;
      if (next.access?.value !== token) next.access = { value: token, refreshedAt: this.#deps.clock() };
    }
    if (dpop) next.dpop = dpop;
    else delete next.dpop;
    if (stored.scope) next.scope = stored.scope;
    // Another sign-in: the other APIs' tokens in memory are of the one before.
    if (stored.sign_in !== next.signIn) delete next.apiAccess;
    if (stored.sign_in) next.signIn = stored.sign_in;
    else delete next.signIn;
    if (generation === undefined) delete next.generation;
    else next.generation = generation;
    this.#memory = next;
    return userChanged;
  }

  #forgetLocally(reason: ErrorInfo | undefined): void {
    this.#memory = {};
    this.#status = 'signed-out';
    this.#error = reason;
  }

  #redeemed(): void {
    this.#status = 'signed-in';
    this.#error = undefined;
    this.#changed();
  }

  /** A refresh may carry fresh ID token claims (a changed name or picture): keep the cache current. */
  #updateProfile(claims: UserProfile): void {
    const updated = { ...this.#memory.user, ...claims };
    if (JSON.stringify(updated) === JSON.stringify(this.#memory.user)) return;
    this.#memory.user = updated;
    this.#opened().cacheProfile(updated, this.#deps.clock(), false);
  }
}

/** When a token was obtained and expires, and whether it is bound: what the state shows of it (never the token). */
function tokenTimes(access: AccessToken): NonNullable<AuthState['accessToken']> {
  const times: NonNullable<AuthState['accessToken']> = access.expiresAt === undefined ? { refreshedAt: access.refreshedAt } : { refreshedAt: access.refreshedAt, expiresAt: access.expiresAt };
  if (access.tokenType === 'dpop') times.dpop = true;
  if (access.acr !== undefined) times.acr = access.acr;
  if (access.authTime !== undefined) times.authTime = access.authTime;
  return times;
}

/** A sign-in found its entry holding another user's session (stored by another process since it chose the entry): it goes elsewhere. */
export class EntryTakenError extends Error {
  readonly storedSub: string;
  constructor(storedSub: string) {
    super('The keychain entry holds another user’s session.');
    this.storedSub = storedSub;
  }
}

/** The tokens a sign-out revokes, each with what it is and its DPoP key. */
function tokensToRevoke(memory: Readonly<SessionMemory>): Map<string, { standsOn: StandsOn; dpop: DpopKey | undefined }> {
  const tokens = new Map<string, { standsOn: StandsOn; dpop: DpopKey | undefined }>();
  if (memory.refreshToken) tokens.set(memory.refreshToken, { standsOn: 'refresh_token', dpop: memory.dpop });
  if (memory.standsOn === 'access_token' && memory.access) tokens.set(memory.access.value, { standsOn: 'access_token', dpop: memory.dpop });
  return tokens;
}
