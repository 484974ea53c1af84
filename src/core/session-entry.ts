import type { ErrorInfo } from '../shared/errors.ts';
import type { AuthConfig } from './config.ts';
import type { Logger } from './log.ts';
import type { ProfileStore } from './profile-store.ts';
import { announceEntryChange } from './refresh-lock.ts';
import type { SecretStore } from './secret-store.ts';

/** What the keychain entry holds: the refresh token and only what is needed to use it. */
export interface StoredSession {
  v: 1;
  refresh_token: string;
  issuer: string;
  client_id: string;
  sub: string;
  scope?: string;
}

/** The keychain account of a session: one entry per issuer and client. */
export function keychainAccount(config: Pick<AuthConfig, 'clientId' | 'issuer'>): string {
  return `${config.clientId}@${config.issuer}`;
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

/**
 * One session's keychain entry and cached profile. Where the entry lives is
 * decided once (`keychain`): the OS keychain, or memory only when there is
 * none or it stops accepting writes — never a file.
 */
export interface SessionEntry {
  readonly account: string;
  /** The cross-process lock file that guards this entry (see refresh-lock.ts). */
  readonly lockPath: string;
  readonly keychain: 'os' | 'memory-only';
  /** Why the session is kept in memory only, for the user; undefined while the OS keychain holds it. */
  readonly notice: ErrorInfo | undefined;
  /** True when other processes can see what is stored here: re-read it before redeeming. */
  readonly shared: boolean;
  /** The stored entry, or null; an entry that is unreadable or for another issuer/client is deleted. */
  read(): Promise<StoredSession | null>;
  /** Stores the entry; if the keychain fails now, the session carries on in memory only and `onDegraded` is called. */
  write(refreshToken: string, sub: string, scope: string | undefined): Promise<void>;
  /** Deletes the entry and the cached profile (best effort: failures are logged). */
  remove(): Promise<void>;
}

export function openSessionEntry(deps: {
  config: AuthConfig;
  secretStore: SecretStore;
  profileStore: ProfileStore;
  lockPath: string;
  logger: Logger;
  onDegraded: () => void;
}): SessionEntry {
  const { config, secretStore, profileStore, lockPath, logger } = deps;
  const account = keychainAccount(config);
  let keychain: 'os' | 'memory-only' = secretStore.kind;
  let notice: ErrorInfo | undefined =
    secretStore.kind === 'os'
      ? undefined
      : { code: 'keychain_unavailable', message: secretStore.reason ?? 'No OS keychain is available, so your session is kept in memory only and won’t survive a restart.' };

  const serialize = (refreshToken: string, sub: string, scope: string | undefined): string => {
    const entry: StoredSession = { v: 1, refresh_token: refreshToken, issuer: config.issuer, client_id: config.clientId, sub };
    if (scope) entry.scope = scope;
    return JSON.stringify(entry);
  };

  return {
    account,
    lockPath,
    get keychain() {
      return keychain;
    },
    get notice() {
      return notice;
    },
    get shared() {
      return secretStore.kind === 'os' && keychain === 'os';
    },

    async read() {
      const raw = await secretStore.get(account);
      if (raw === null) return null;
      const entry = parseStoredSession(raw);
      if (entry && entry.issuer === config.issuer && entry.client_id === config.clientId) return entry;
      logger.warn('deleting an unusable keychain entry', { account });
      await secretStore.delete(account);
      if (secretStore.kind === 'os') announceEntryChange(lockPath);
      return null;
    },

    async write(refreshToken, sub, scope) {
      if (keychain === 'memory-only' && secretStore.kind === 'os') return;
      try {
        await secretStore.set(account, serialize(refreshToken, sub, scope));
      } catch (storeError) {
        logger.warn('keychain write failed; keeping the session in memory only', { error: String(storeError) });
        keychain = 'memory-only';
        notice = {
          code: 'keychain_unavailable',
          message: 'The OS keychain stopped accepting the session, so it is kept in memory only and won’t survive a restart.',
        };
        // What is left there may be already redeemed; better gone than reused.
        await secretStore.delete(account).catch(() => {});
        deps.onDegraded();
      }
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
