import { encodeAccess, type SharedAccessToken, type AccessToken } from '../entry/shared-access-token.ts';
import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { StoredDpopKey } from '../dpop/key.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ProfileCache } from '../entry/profile-cache.ts';
import { acquireEntryLock, type EntryLock } from '../entry/lock.ts';
import type { SessionEntry, StandsOn, StoredSession } from '../entry/entry.ts';

// The keychain side of the session store's transactions: the entry's lock, and what is read and written under
// it. No session state lives here — the store (session-store.ts) decides what is kept and hands in what to write.

/** Where a session is kept, known once the keychain is open. */
export interface StoreKeychain {
  entry: SessionEntry;
  accessCache: SharedAccessToken;
  profileStore: ProfileCache;
}

/** What a session entry is written with. */
export interface EntryWrite {
  /** The token the session stands on: the refresh token, or with `kind` 'access_token' the long-lived access token (then `access` is undefined). */
  refreshToken: string;
  kind?: StandsOn;
  sub: string;
  scope: string | undefined;
  access: AccessToken | undefined;
  /** False: the refresh token is unchanged, so the write is only worth it to share `access` with other processes. */
  rotated: boolean;
  /** The session's DPoP private key (RFC 9449), stored with the refresh token it binds. */
  dpopKey?: StoredDpopKey | undefined;
}

/** Takes the entry's cross-process lock (on the real clock: its ages are compared across processes); `onWait`: say that another process holds it. */
export function lockEntry(keychain: StoreKeychain, logger: Logger, onWait?: () => void): Promise<EntryLock> {
  return acquireEntryLock(keychain.entry.lockPath, { logger, ...(onWait ? { onWait } : {}) });
}

/**
 * The one place a holder checks, before writing the keychain, that the lock is
 * still its own (a holder that stalled past the stale bound may have lost it).
 * Today it says so and writes all the same: a rotated refresh token not stored
 * is lost for good.
 */
export function verifyHeld(lock: EntryLock, logger: Logger, what: string): void {
  if (lock.isHeld()) return;
  logger.warn('not writing the keychain entry: the lock was taken over (this process stalled)', { what });
  lock.assertHeld();
}

/**
 * Stores the entry — with the shared access token in the same keychain write
 * where both fit in one secret, else the token in an entry of its own.
 */
export async function writeEntry(keychain: StoreKeychain, config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource'>, lock: EntryLock, logger: Logger, write: EntryWrite): Promise<void> {
  const { entry, accessCache } = keychain;
  const shared = entry.shared ? encodeAccess(config, write.access, { sub: write.sub, generation: lock.readGeneration() }) : undefined;
  if (!write.rotated && !shared) return;
  verifyHeld(lock, logger, 'session entry');
  const fitted = await entry.write(write.refreshToken, write.sub, write.scope, shared, write.dpopKey, write.kind);
  if (shared && !fitted) await accessCache.writeOwnEntry(shared);
}

/** Under the lock: the stored entry and the access token shared with it; signed out when another process deleted it. */
export async function readEntry(keychain: StoreKeychain): Promise<{ stored: StoredSession | null; shared: AccessToken | undefined }> {
  const stored = await keychain.entry.read();
  return { stored, shared: stored ? await keychain.accessCache.fromEntry(stored.access, stored.sub) : undefined };
}

/** Under the lock: deletes the entry, the shared access token and the cached profile. */
export async function removeEntry(keychain: StoreKeychain, lock: EntryLock, logger: Logger, what: string): Promise<void> {
  verifyHeld(lock, logger, what);
  await Promise.all([keychain.entry.remove(), keychain.accessCache.remove()]);
}

/** Caches the profile (no secret) beside the entry, so a restart shows who is signed in before any network call; `signedIn`: this is a new sign-in at `now`. */
export function cacheProfile(keychain: StoreKeychain, logger: Logger, user: UserProfile, now: number, signedIn: boolean): void {
  const { entry, profileStore } = keychain;
  try {
    profileStore.set(entry.account, { user, lastSignInAt: (signedIn ? undefined : profileStore.get(entry.account)?.lastSignInAt) ?? now });
  } catch (profileError) {
    logger.warn('could not cache the profile', { error: String(profileError) });
  }
}

/** Best effort: a cached name without a session shows nothing. */
export function forgetCachedProfile(keychain: StoreKeychain): void {
  try {
    keychain.profileStore.delete(keychain.entry.account);
  } catch {
    // The next read asks again.
  }
}
