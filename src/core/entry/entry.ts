import { existsSync } from 'node:fs';
import type { KeychainPlace, UserProfile } from '../../shared/auth-state.ts';
import { toErrorInfo, type ErrorInfo } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError } from '../errors.ts';
import type { Keychain, ReadOptions } from '../keychain/keychain.ts';
import type { AccessToken } from '../tokens/access-token.ts';
import { keychainAccount, parseStoredSession, serializeEntry, type EntryWrite, type StoredSession } from './format.ts';
import { acquireEntryLock, entryLockPath, readEntryGeneration, type EntryLock } from './lock.ts';
import { KeychainPlaceState } from './place.ts';
import type { ProfileCache } from './profile-cache.ts';
import type { ApiConfig } from '../config/apis.ts';
import { apiTokenAccount, decodeAccess, encodeAccess, IN_OWN_ENTRY, sharedTokenAccount } from './shared-access-token.ts';

const SIGN_IN_LOCKED_MESSAGE =
  'Your keychain is locked — unlock it (e.g. log in to your desktop session or open your keyring manager), then sign in: a session signed in now could not be kept.';

/** The stored entry and the access token shared with it (when it was stored for this client, user and generation). */
export interface EntryRead {
  stored: StoredSession;
  shared: AccessToken | undefined;
}

/** What a restore finds: the entry, its shared access token and its user; for a session out of reach, the cached user; and why a read failed. */
export interface RestoredSession {
  stored?: StoredSession;
  shared?: AccessToken;
  user?: UserProfile;
  error?: ErrorInfo;
  /**
   * The entry's generation this read is known to match — no process was changing the entry around it — so a
   * refresh need not read the entry again while the generation stays the same; undefined: read it under the lock.
   */
  generation?: string;
}

/**
 * One session's keychain entry: where it lives, its cross-process lock, the
 * access token shared with it, and the cached profile beside it. Where the
 * entry lives is decided once (`keychain`): the OS keychain, or memory only
 * when there is none or it stops accepting writes — never a file. A locked
 * keychain (or one that refuses access) is neither: the session is still
 * stored, only out of reach until the user unlocks it, so nothing is deleted
 * and nothing is moved. Every write and delete under the lock checks first
 * that the lock is still this process's.
 */
export interface SessionEntry {
  readonly account: string;
  /** The cross-process lock file that guards this entry (see lock.ts). */
  readonly lockPath: string;
  readonly keychain: KeychainPlace;
  /** Why the session is kept in memory only or is out of reach, for the user; undefined while the OS keychain holds it. */
  readonly notice: ErrorInfo | undefined;
  /** True when other processes can see what is stored here: re-read it before redeeming. */
  readonly shared: boolean;
  /** The error to answer with while the stored session is locked away or access to it is refused; undefined while it is in reach. */
  readonly outOfReach: AuthError | undefined;
  /** Takes the entry's cross-process lock; `onWait`: another process holds it. */
  lock(onWait?: () => void): Promise<EntryLock>;
  /**
   * The stored entry and its shared access token, or null; an entry that is unreadable or for another
   * issuer/client is deleted. Rejects with `keychain_locked` / `keychain_refused` when a session was stored
   * (the cached profile says so) but the keychain keeps it locked or refuses it — out of reach is not "no session".
   * `lock`: the caller holds the entry's lock; without it, a read that must change the entry (store what a locked
   * keychain refused, delete an unusable entry) takes the lock for that change.
   */
  read(options?: ReadOptions, lock?: EntryLock): Promise<EntryRead | null>;
  /** `read` for restoring a session into memory, without the lock; never rejects. */
  restore(options?: ReadOptions): Promise<RestoredSession>;
  /**
   * Without the lock: the access token another process shared since the entry was at `generation` — undefined
   * when the entry has not changed since then (nothing to read), or it holds none for `sub`. Never rejects.
   */
  sharedSince(generation: string | undefined, sub: string | undefined): Promise<AccessToken | undefined>;
  /**
   * Under `lock`: stores the entry — with the shared access token in the same keychain write where both fit in
   * one secret, else the token in an item of its own. If the keychain fails now, the session carries on in memory
   * only and `onDegraded` is called — unless the keychain is locked: then the entry is written once it is unlocked.
   */
  write(lock: EntryLock, write: EntryWrite & { access: AccessToken | undefined; rotated: boolean }): Promise<void>;
  /**
   * Without the lock: the access token of a second API (`api`) another process shared for user `sub` from sign-in
   * `signIn` (the entry's `sign_in`); undefined when there is none, or it is for another user, sign-in or API. Never rejects.
   */
  readApiToken(api: ApiConfig, owner: { sub: string | undefined; signIn: string | undefined }): Promise<AccessToken | undefined>;
  /** Under `lock`: shares the access token of a second API with every process, in an item of its own (best effort: failures are logged). */
  writeApiToken(lock: EntryLock, api: ApiConfig, access: AccessToken, owner: { sub: string; signIn: string }): Promise<void>;
  /** Under `lock`: deletes the entry, its shared access tokens and the cached profile (best effort: failures are logged). */
  remove(lock: EntryLock, why: string): Promise<void>;
  /** Rejects with `keychain_locked` when a sign-in now could not be stored (the keychain is locked), before the browser opens. */
  assertWritable(): Promise<void>;
  /**
   * Who to show beside the tokens of an entry stored for `sub`: the cached profile when it is that user's, else only
   * `sub`. A data folder is a process's own (a Flatpak's XDG_CONFIG_HOME, AUTH_DATA_DIR) while the entry is shared, so
   * the cache may name whoever this process last saw sign in: it is never shown beside another user's tokens.
   */
  profileOf(sub: string): UserProfile;
  /** Caches the profile (no secret) beside the entry, so a restart shows who is signed in before any network call; `signedIn`: a new sign-in at `now`. */
  cacheProfile(user: UserProfile, now: number, signedIn: boolean): void;
  /** Best effort: a cached name without a session shows nothing. */
  forgetProfile(): void;
}

export interface SessionEntryDeps {
  config: AuthConfig;
  /** The keychain account of this entry: one account's (see accounts/account-index.ts); default `keychainAccount(config)`. */
  account?: string;
  keychain: Keychain;
  profileCache: ProfileCache;
  /** The folder of this user's locks (`defaultLockDir()`). */
  lockDir: string;
  logger: Logger;
  /** The keychain stopped accepting the session (memory only, or locked). */
  onDegraded(): void;
  /** Called when a read waits on an unlock prompt. */
  onWaiting?: () => void;
  /**
   * The entry's generation and whether its lock was absent, as `takeEntrySnapshot` saw them before the keychain
   * was opened — where the keychain may read the entry ahead (`openKeychain`'s `readAhead`). The first restore
   * judges its read against this instead of a look of its own, which would come after that read.
   */
  snapshot?: EntrySnapshot;
}

/** The entry's generation and whether a holder was at work, seen before its read (see `restore`). */
export interface EntrySnapshot {
  generation: string | undefined;
  quiet: boolean;
}

/** The snapshot of `account`'s entry a restore needs, taken now: before anything reads the entry. */
export function takeEntrySnapshot(config: AuthConfig, account: string, lockDir: string): EntrySnapshot {
  const lockPath = entryLockPath(lockDir, config.keychainService, account);
  return { generation: readEntryGeneration(lockPath), quiet: !existsSync(lockPath) };
}

export function openSessionEntry(deps: SessionEntryDeps): SessionEntry {
  const { config, keychain, profileCache, logger } = deps;
  const account = deps.account ?? keychainAccount(config);
  const lockPath = entryLockPath(deps.lockDir, config.keychainService, account);
  let firstSnapshot = deps.snapshot;
  const place = new KeychainPlaceState(keychain);
  // A memory-only keychain is this process's alone: nothing is shared.
  const isShared = () => keychain.kind === 'os' && place.place !== 'memory-only';
  /**
   * A rotated entry the locked keychain did not accept yet, and the entry generation it belongs to: written once
   * the keychain is unlocked, under the lock — and not at all when another process changed the entry since.
   */
  let unstored: { serialized: string; generation: string | undefined } | undefined;
  const putOutOfReach = (where: 'locked' | 'refused') => place.putOutOfReach(where);
  const cachedUser = (): UserProfile | undefined => {
    try {
      return profileCache.get(account)?.user;
    } catch {
      return undefined;
    }
  };
  const forgetProfile = (): void => {
    try {
      profileCache.delete(account);
    } catch (deleteError) {
      logger.warn('could not delete the cached profile', { error: String(deleteError) });
    }
  };
  const profileOf = (sub: string): UserProfile => {
    const cached = cachedUser();
    return cached?.sub === sub ? cached : { sub };
  };
  /** The cached profile is written at every sign-in and deleted at every sign-out: it marks that a session was stored (no secret). */
  const sessionWasStored = (): boolean => keychain.kind === 'os' && cachedUser() !== undefined;

  /** Nothing came back for a stored session: locked away, or really gone? */
  const isLockedAway = async (): Promise<boolean> => {
    const state = await keychain.itemState?.(account);
    if (state === 'absent') {
      logger.info('the stored session is gone from the keychain; forgetting its cached profile', { account });
      forgetProfile();
    }
    // Without the Secret Service's word, Linux's libsecret yields nothing both for a locked entry whose prompt was dismissed and for none.
    return state === undefined ? process.platform === 'linux' : state === 'locked';
  };

  /** The one place a holder checks, before changing the keychain entry, that the lock is still its own (a holder that stalled past the stale bound may have lost it). */
  const assertStillHeld = (lock: EntryLock, what: string): void => {
    if (lock.isHeld()) return;
    logger.warn('not changing the keychain entry: the lock was taken over (this process stalled)', { what });
    lock.assertHeld();
  };

  /**
   * Every change of the entry happens under its lock, checked to be still this process's: under the caller's
   * `lock`, or — for a read that holds none (a restore) — under the lock taken for this change alone.
   */
  const changeUnderLock = async <T>(lock: EntryLock | undefined, what: string, change: (held: EntryLock) => Promise<T>): Promise<T> => {
    if (lock) {
      assertStillHeld(lock, what);
      return change(lock);
    }
    const taken = await acquireEntryLock(lockPath, { logger, onWait: () => logger.info('waiting for another process to finish with the keychain entry before changing it', { what }) });
    try {
      assertStillHeld(taken, what);
      return await change(taken);
    } finally {
      await taken.release();
    }
  };

  /** Under `held`: stores the entry the locked keychain refused; resolves to it, or to undefined when another process changed the entry since (its entry is newer: ours is dropped). */
  const storeUnstored = async (held: EntryLock): Promise<string | undefined> => {
    const pending = unstored;
    if (pending === undefined) return undefined;
    if (keychain.kind === 'os' && held.readGeneration() !== pending.generation) {
      unstored = undefined;
      logger.warn('another process changed the keychain entry while it was locked: not storing this process’s older session over it');
      return undefined;
    }
    // Announced before the write, as every change is; a write that fails again is retried at this generation.
    if (keychain.kind === 'os') pending.generation = held.announceChange();
    try {
      await keychain.set(account, pending.serialized);
    } catch (storeError) {
      logger.debug('the keychain still refuses the session', { error: String(storeError) });
      throw putOutOfReach('locked');
    }
    unstored = undefined;
    logger.info('the keychain is unlocked again: stored the session it had refused while locked');
    return pending.serialized;
  };

  const readRaw = async (options: ReadOptions, lock: EntryLock | undefined): Promise<string | null> => {
    const readOptions = { ...(deps.onWaiting ? { onWaiting: deps.onWaiting } : {}), ...options };
    if (unstored !== undefined) {
      // Writing to a locked keychain may prompt: only once it says it is unlocked, or on the user's own retry.
      if (options.prompt === false && (await keychain.isLocked?.()) !== false) throw putOutOfReach('locked');
      const written = await changeUnderLock(lock, 'the session the locked keychain refused', storeUnstored);
      if (written !== undefined) return written;
    }
    try {
      const raw = await keychain.get(account, readOptions);
      if (raw === null && sessionWasStored() && (await isLockedAway())) throw putOutOfReach('locked');
      return raw;
    } catch (readError) {
      if (readError instanceof AuthError && (readError.code === 'keychain_locked' || readError.code === 'keychain_refused')) throw putOutOfReach(readError.code === 'keychain_locked' ? 'locked' : 'refused');
      if (unstored !== undefined || ((await keychain.isLocked?.()) ?? false)) throw putOutOfReach('locked');
      if (sessionWasStored()) throw Object.assign(putOutOfReach('refused'), { cause: readError });
      throw readError;
    }
  };

  /** The item a shared access token too large for the entry lives in, parsed; undefined when none or unreadable. */
  const readOwnItem = async (): Promise<unknown> => {
    try {
      const raw = await keychain.get(sharedTokenAccount(account));
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    } catch (readError) {
      logger.debug('shared access token unreadable', { error: String(readError) });
      return undefined;
    }
  };

  /** The entry's `access` (for `sub`, at `generation`): decoded, or read from its own item when it says so. */
  const sharedFrom = async (access: unknown, sub: string | undefined, generation: string | undefined): Promise<AccessToken | undefined> => {
    if (keychain.kind !== 'os' || access === undefined) return undefined;
    return decodeAccess(config, access === IN_OWN_ENTRY ? await readOwnItem() : access, { sub, generation });
  };

  const read = async (options: ReadOptions = {}, lock?: EntryLock): Promise<EntryRead | null> => {
    const raw = await readRaw(options, lock);
    place.bringBackInReach();
    if (raw === null) return null;
    const stored = parseStoredSession(raw);
    if (stored && stored.issuer === config.issuer && stored.client_id === config.clientId) {
      return { stored, shared: await sharedFrom(stored.access, stored.sub, readEntryGeneration(lockPath)) };
    }
    const deleted = await changeUnderLock(lock, 'an unusable keychain entry', async (held) => {
      // A lock taken just now: another process may have stored a session over the unusable entry meanwhile.
      if (!lock && (await keychain.get(account)) !== raw) return false;
      logger.warn('deleting an unusable keychain entry', { account });
      if (keychain.kind === 'os') held.announceChange();
      await keychain.delete(account);
      return true;
    });
    return deleted ? null : read(options, lock);
  };

  /** Stores the entry; resolves to whether the shared access token went in with it. */
  const store = async (lock: EntryLock, write: EntryWrite, shared: Parameters<typeof serializeEntry>[2]): Promise<boolean> => {
    if (place.place === 'memory-only' && keychain.kind === 'os') return false;
    const { serialized, withAccess } = serializeEntry(config, write, shared);
    try {
      await keychain.set(account, serialized);
      unstored = undefined;
      return withAccess;
    } catch (storeError) {
      if (place.place === 'locked' || (await keychain.isLocked?.()) === true) {
        // Locked, not gone: keep the entry that is there (deleting it would fail too) and store this one on unlock.
        logger.warn('the keychain is locked; the session will be stored once it is unlocked', { error: String(storeError) });
        unstored = { serialized, generation: lock.readGeneration() };
        putOutOfReach('locked');
        deps.onDegraded();
        return withAccess;
      }
      logger.warn('keychain write failed; keeping the session in memory only', { error: String(storeError) });
      place.fallBackToMemory();
      // What is left there may be already redeemed; better gone than reused.
      await keychain.delete(account).catch(() => {});
      deps.onDegraded();
      return false;
    }
  };

  /** What a second API's tokens are issued for: its own audience or resource, and its scope (else the sign-in's). */
  const issuedFor = (api: ApiConfig) => ({ issuer: config.issuer, clientId: config.clientId, scope: api.scope ?? config.scope, audience: api.audience, resource: api.resource });

  return {
    account,
    lockPath,
    get keychain() {
      return place.place;
    },
    get notice() {
      return place.notice;
    },
    get shared() {
      // Locked is still shared: a token another process rotated before the lock must not be redeemed blindly.
      return isShared();
    },
    get outOfReach() {
      return place.outOfReachError();
    },

    // On the real clock: its ages are compared across processes.
    lock: (onWait) => acquireEntryLock(lockPath, { logger, ...(onWait ? { onWait } : {}) }),

    read,

    async restore(options) {
      // The generation before the read, and no holder at work: then what is read is what that generation names.
      // The first restore's read may have begun when the keychain opened: its snapshot is from before that.
      const { generation: before, quiet } = firstSnapshot ?? { generation: readEntryGeneration(lockPath), quiet: !existsSync(lockPath) };
      firstSnapshot = undefined;
      try {
        const found = await read(options);
        if (!found) return {};
        const user = profileOf(found.stored.sub);
        const synced = quiet && before !== undefined && readEntryGeneration(lockPath) === before;
        return { stored: found.stored, user, ...(found.shared ? { shared: found.shared } : {}), ...(synced ? { generation: before } : {}) };
      } catch (readError) {
        logger.warn('could not read the keychain entry', { error: String(readError) });
        const user = place.outOfReachError() ? cachedUser() : undefined;
        return { error: toErrorInfo(readError), ...(user ? { user } : {}) };
      }
    },

    async sharedSince(generation, sub) {
      if (!isShared()) return undefined;
      const now = readEntryGeneration(lockPath);
      if (generation !== undefined && now === generation) return undefined;
      let entry: unknown;
      try {
        const raw = await keychain.get(account);
        entry = raw === null ? undefined : (JSON.parse(raw) as unknown);
      } catch (readError) {
        logger.debug('shared access token unreadable', { error: String(readError) });
        return undefined;
      }
      return sharedFrom(typeof entry === 'object' && entry !== null ? (entry as { access?: unknown }).access : undefined, sub, now);
    },

    async write(lock, { access, rotated, ...write }) {
      const shared = isShared() ? encodeAccess(config, access, { sub: write.sub, generation: lock.readGeneration() }) : undefined;
      if (!rotated && !shared) return;
      assertStillHeld(lock, 'session entry');
      const fitted = await store(lock, write, shared);
      if (shared && !fitted) {
        await keychain.set(sharedTokenAccount(account), JSON.stringify(shared)).catch((writeError: unknown) => logger.warn('could not store the shared access token', { error: String(writeError) }));
      }
    },

    async readApiToken(api, { sub, signIn }) {
      if (!isShared() || signIn === undefined) return undefined;
      try {
        const raw = await keychain.get(apiTokenAccount(account, api.name));
        return raw === null ? undefined : decodeAccess(issuedFor(api), JSON.parse(raw) as unknown, { sub, generation: undefined, signIn });
      } catch (readError) {
        logger.debug('shared access token unreadable', { api: api.name, error: String(readError) });
        return undefined;
      }
    },

    async writeApiToken(lock, api, access, owner) {
      if (!isShared()) return;
      const shared = encodeAccess(issuedFor(api), access, { sub: owner.sub, generation: undefined, signIn: owner.signIn });
      if (!shared) return;
      assertStillHeld(lock, `the shared access token of ${api.name}`);
      await keychain.set(apiTokenAccount(account, api.name), JSON.stringify(shared)).catch((writeError: unknown) => logger.warn('could not store the shared access token', { api: api.name, error: String(writeError) }));
    },

    async remove(lock, why) {
      assertStillHeld(lock, why);
      const removeItem = (item: string, what: string) => keychain.delete(item).catch((deleteError: unknown) => logger.warn(`could not delete ${what}`, { error: String(deleteError) }));
      const apiItems = keychain.kind === 'os' ? config.apis.slice(1).map((api) => removeItem(apiTokenAccount(account, api.name), `the shared access token of ${api.name}`)) : [];
      await Promise.all([removeItem(account, 'the keychain entry'), keychain.kind === 'os' ? removeItem(sharedTokenAccount(account), 'the shared access token') : undefined, ...apiItems]);
      forgetProfile();
    },

    async assertWritable() {
      const outOfReach = place.outOfReachError();
      if (outOfReach) throw outOfReach;
      if (keychain.kind === 'os' && (await keychain.isLocked?.()) === true) throw new AuthError('keychain_locked', SIGN_IN_LOCKED_MESSAGE);
    },

    profileOf,

    cacheProfile(user, now, signedIn) {
      try {
        profileCache.set(account, { user, lastSignInAt: (signedIn ? undefined : profileCache.get(account)?.lastSignInAt) ?? now });
      } catch (profileError) {
        logger.warn('could not cache the profile', { error: String(profileError) });
      }
    },

    forgetProfile,
  };
}
