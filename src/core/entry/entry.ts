import type { ErrorInfo } from '../../shared/errors.ts';
import type { KeychainPlace, UserProfile } from '../../shared/auth-state.ts';
import { IN_OWN_ENTRY, MAX_SECRET_BYTES, type StoredAccess } from './shared-access-token.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError } from '../errors.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { parseStoredDpopKey, type StoredDpopKey } from '../dpop/key.ts';
import type { ProfileCache } from './profile-cache.ts';
import { announceEntryChange } from './lock.ts';
import { KeychainPlaceState } from './place.ts';
import type { ReadOptions, Keychain } from '../keychain/keychain.ts';

const SIGN_IN_LOCKED_MESSAGE =
  'Your keychain is locked — unlock it (e.g. log in to your desktop session or open your keyring manager), then sign in: a session signed in now could not be kept.';

/**
 * What the keychain entry holds: the refresh token and only what is needed to
 * use it — or, from a provider that issues no refresh token but a long-lived
 * access token (a GitHub OAuth App), that access token instead.
 */
export type StoredSession = StoredFields & ({ refresh_token: string; access_token?: undefined } | { access_token: string; refresh_token?: undefined });

/** Which token a session stands on: a refresh token (RFC 6749 §6), or a long-lived access token kept until it is refused. */
export type StandsOn = 'refresh_token' | 'access_token';

interface StoredFields {
  v: 1;
  issuer: string;
  client_id: string;
  sub: string;
  scope?: string;
  /** The access token every process of the session shares when it fits in one secret with the rest; `own-entry` when it did not (see access-cache.ts). */
  access?: StoredAccess | typeof IN_OWN_ENTRY;
  /** The session's DPoP private key (RFC 9449), when its tokens are bound: it lives and dies with the refresh token. */
  dpop_key?: StoredDpopKey;
}

/** The keychain account of a session: one entry per issuer and client. */
export function keychainAccount(config: Pick<AuthConfig, 'clientId' | 'issuer'>): string {
  return `${config.clientId}@${config.issuer}`;
}

/** The keychain entry parsed and checked, or undefined when it is not one of ours. */
export function parseStoredSession(raw: string): StoredSession | undefined {
  try {
    const value = JSON.parse(raw) as Partial<StoredFields & { refresh_token: unknown; access_token: unknown }>;
    const token = nonEmpty(value.refresh_token) ? { refresh_token: value.refresh_token } : nonEmpty(value.access_token) ? { access_token: value.access_token } : undefined;
    if (value.v === 1 && token && typeof value.issuer === 'string' && typeof value.client_id === 'string' && typeof value.sub === 'string') {
      const entry: StoredSession = { v: 1, ...token, issuer: value.issuer, client_id: value.client_id, sub: value.sub };
      if (typeof value.scope === 'string') entry.scope = value.scope;
      if ((typeof value.access === 'object' && value.access !== null) || value.access === IN_OWN_ENTRY) entry.access = value.access;
      if (value.dpop_key !== undefined) {
        // A bound refresh token without its key is worthless: the entry is not usable.
        const key = parseStoredDpopKey(value.dpop_key);
        if (!key) return undefined;
        entry.dpop_key = key;
      }
      return entry;
    }
  } catch {
    // Not JSON: not ours.
  }
  return undefined;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** The token a stored session stands on, and which kind it is. */
export function standsOnOf(stored: StoredSession): { token: string; kind: StandsOn } {
  return stored.access_token !== undefined ? { token: stored.access_token, kind: 'access_token' } : { token: stored.refresh_token, kind: 'refresh_token' };
}

/** What a restore finds: the entry and its user; for a session out of reach, the cached user; and why a read failed. */
export interface RestoredSession {
  stored?: StoredSession;
  user?: UserProfile;
  error?: ErrorInfo;
}

/**
 * One session's keychain entry and cached profile. Where the entry lives is
 * decided once (`keychain`): the OS keychain, or memory only when there is
 * none or it stops accepting writes — never a file. A locked keychain (or one
 * that refuses access) is neither: the session is still stored, only out of
 * reach until the user unlocks it, so nothing is deleted and nothing is moved.
 */
export interface SessionEntry {
  readonly account: string;
  /** The cross-process lock file that guards this entry (see refresh-lock.ts). */
  readonly lockPath: string;
  readonly keychain: KeychainPlace;
  /** Why the session is kept in memory only or is out of reach, for the user; undefined while the OS keychain holds it. */
  readonly notice: ErrorInfo | undefined;
  /** True when other processes can see what is stored here: re-read it before redeeming. */
  readonly shared: boolean;
  /** The error to answer with while the stored session is locked away or access to it is refused; undefined while it is in reach. */
  readonly outOfReach: AuthError | undefined;
  /**
   * The stored entry, or null; an entry that is unreadable or for another issuer/client is deleted.
   * Rejects with `keychain_locked` / `keychain_refused` when a session was stored (the cached profile
   * says so) but the keychain keeps it locked or refuses it — a session out of reach is not "no session".
   */
  read(options?: ReadOptions): Promise<StoredSession | null>;
  /** `read` for restoring a session into memory; never rejects. */
  restore(options?: ReadOptions): Promise<RestoredSession>;
  /**
   * Stores the entry — with the shared access token in the same write when both fit in one secret
   * (`MAX_SECRET_BYTES`); resolves to whether `access` went in. If the keychain fails now, the session carries on
   * in memory only and `onDegraded` is called — unless the keychain is locked: then the entry is written once it
   * is unlocked (the next `read`).
   */
  write(token: string, sub: string, scope: string | undefined, access?: StoredAccess, dpopKey?: StoredDpopKey, kind?: StandsOn): Promise<boolean>;
  /** Rejects with `keychain_locked` when a sign-in now could not be stored (the keychain is locked), before the browser opens. */
  assertWritable(): Promise<void>;
  /** Deletes the entry and the cached profile (best effort: failures are logged). */
  remove(): Promise<void>;
}

export function openSessionEntry(deps: {
  config: AuthConfig;
  secretStore: Keychain;
  profileStore: ProfileCache;
  lockPath: string;
  logger: Logger;
  onDegraded: () => void;
  /** Called when a read waits on an unlock prompt. */
  onWaiting?: () => void;
}): SessionEntry {
  const { config, secretStore, profileStore, lockPath, logger } = deps;
  const account = keychainAccount(config);
  const place = new KeychainPlaceState(secretStore);
  /** A rotated entry the locked keychain did not accept yet: written as soon as it is unlocked. */
  let unstored: string | undefined;
  const putOutOfReach = (where: 'locked' | 'refused') => place.putOutOfReach(where);
  const cachedUser = () => cachedUserOf(profileStore, account);
  /** The cached profile is written at every sign-in and deleted at every sign-out: it marks that a session was stored (no secret). */
  const sessionWasStored = (): boolean => secretStore.kind === 'os' && cachedUser() !== undefined;
  const isLockedAway = () => isLockedAwayIn(deps, account);

  const readRaw = async (options: ReadOptions): Promise<string | null> => {
    const readOptions = { ...(deps.onWaiting ? { onWaiting: deps.onWaiting } : {}), ...options };
    try {
      if (unstored !== undefined) {
        // Writing to a locked keychain may prompt: only once it says it is unlocked, or on the user's own retry.
        if (options.prompt === false && (await secretStore.isLocked?.()) !== false) throw putOutOfReach('locked');
        await secretStore.set(account, unstored);
        const written = unstored;
        unstored = undefined;
        logger.info('the keychain is unlocked again: stored the session it had refused while locked');
        return written;
      }
      const raw = await secretStore.get(account, readOptions);
      if (raw === null && sessionWasStored() && (await isLockedAway())) throw putOutOfReach('locked');
      return raw;
    } catch (readError) {
      if (readError instanceof AuthError && (readError.code === 'keychain_locked' || readError.code === 'keychain_refused')) throw putOutOfReach(readError.code === 'keychain_locked' ? 'locked' : 'refused');
      if (unstored !== undefined || ((await secretStore.isLocked?.()) ?? false)) throw putOutOfReach('locked');
      if (sessionWasStored()) throw Object.assign(putOutOfReach('refused'), { cause: readError });
      throw readError;
    }
  };

  const read = async (options: ReadOptions = {}): Promise<StoredSession | null> => {
    const raw = await readRaw(options);
    place.bringBackInReach();
    if (raw === null) return null;
    const entry = parseStoredSession(raw);
    if (entry && entry.issuer === config.issuer && entry.client_id === config.clientId) return entry;
    logger.warn('deleting an unusable keychain entry', { account });
    await secretStore.delete(account);
    if (secretStore.kind === 'os') announceEntryChange(lockPath);
    return null;
  };

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
      return secretStore.kind === 'os' && place.place !== 'memory-only';
    },
    get outOfReach() {
      return place.outOfReachError();
    },

    read,

    restore: (options) => restoreWith(() => read(options), { cachedUser, outOfReach: () => place.outOfReachError() !== undefined, logger }),

    async write(token, sub, scope, access, dpopKey, kind = 'refresh_token') {
      if (place.place === 'memory-only' && secretStore.kind === 'os') return false;
      const { serialized, withAccess } = serializeEntry(config, { token, kind, sub, scope, access, dpopKey });
      try {
        await secretStore.set(account, serialized);
        unstored = undefined;
        return withAccess;
      } catch (storeError) {
        if (place.place === 'locked' || (await secretStore.isLocked?.()) === true) {
          // Locked, not gone: keep the entry that is there (deleting it would fail too) and store this one on unlock.
          logger.warn('the keychain is locked; the session will be stored once it is unlocked', { error: String(storeError) });
          unstored = serialized;
          putOutOfReach('locked');
          deps.onDegraded();
          return withAccess;
        }
        logger.warn('keychain write failed; keeping the session in memory only', { error: String(storeError) });
        place.fallBackToMemory();
        // What is left there may be already redeemed; better gone than reused.
        await secretStore.delete(account).catch(() => {});
        deps.onDegraded();
        return false;
      }
    },

    async assertWritable() {
      const outOfReach = place.outOfReachError();
      if (outOfReach) throw outOfReach;
      if (secretStore.kind === 'os' && (await secretStore.isLocked?.()) === true) throw new AuthError('keychain_locked', SIGN_IN_LOCKED_MESSAGE);
    },

    async remove() {
      await secretStore.delete(account).catch((deleteError: unknown) => logger.warn('could not delete the keychain entry', { error: String(deleteError) }));
      try {
        profileStore.delete(account);
      } catch (deleteError) {
        logger.warn('could not delete the cached profile', { error: String(deleteError) });
      }
    },
  };
}

/** The entry as stored, with `access` only when the whole still fits in one secret (else marked as in its own entry). */
function serializeEntry(
  config: Pick<AuthConfig, 'issuer' | 'clientId'>,
  fields: { token: string; kind: StandsOn; sub: string; scope: string | undefined; access: StoredAccess | undefined; dpopKey: StoredDpopKey | undefined },
): { serialized: string; withAccess: boolean } {
  const entry: StoredSession = { v: 1, ...(fields.kind === 'access_token' ? { access_token: fields.token } : { refresh_token: fields.token }), issuer: config.issuer, client_id: config.clientId, sub: fields.sub };
  if (fields.scope) entry.scope = fields.scope;
  if (fields.dpopKey) entry.dpop_key = fields.dpopKey;
  if (!fields.access) return { serialized: JSON.stringify(entry), withAccess: false };
  const combined = JSON.stringify({ ...entry, access: fields.access });
  if (Buffer.byteLength(combined, 'utf8') <= MAX_SECRET_BYTES) return { serialized: combined, withAccess: true };
  return { serialized: JSON.stringify({ ...entry, access: IN_OWN_ENTRY }), withAccess: false };
}

function cachedUserOf(profileStore: ProfileCache, account: string): UserProfile | undefined {
  try {
    return profileStore.get(account)?.user;
  } catch {
    return undefined;
  }
}

/** Nothing came back for a stored session: locked away, or really gone? */
async function isLockedAwayIn(deps: { secretStore: Keychain; profileStore: ProfileCache; logger: Logger }, account: string): Promise<boolean> {
  const lock = await deps.secretStore.itemState?.(account);
  if (lock === 'absent') {
    deps.logger.info('the stored session is gone from the keychain; forgetting its cached profile', { account });
    try {
      deps.profileStore.delete(account);
    } catch {
      // Best effort: the next read asks again.
    }
  }
  // Without the Secret Service's word, Linux's libsecret yields nothing both for a locked entry whose prompt was dismissed and for none.
  return lock === undefined ? process.platform === 'linux' : lock === 'locked';
}

/** `read` for restoring a session into memory; never rejects. A session out of reach keeps its cached user. */
async function restoreWith(read: () => Promise<StoredSession | null>, deps: { cachedUser(): UserProfile | undefined; outOfReach(): boolean; logger: Logger }): Promise<RestoredSession> {
  try {
    const stored = await read();
    if (!stored) return {};
    const cached = deps.cachedUser();
    return { stored, user: cached?.sub === stored.sub ? cached : { sub: stored.sub } };
  } catch (readError) {
    deps.logger.warn('could not read the keychain entry', { error: String(readError) });
    const user = deps.outOfReach() ? deps.cachedUser() : undefined;
    return { error: toErrorInfo(readError), ...(user ? { user } : {}) };
  }
}
