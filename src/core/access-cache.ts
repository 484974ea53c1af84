import type { AuthConfig } from './config.ts';
import type { Logger } from './log.ts';
import { readEntryGeneration } from './refresh-lock.ts';
import { renewalTimes } from './renewal.ts';
import type { SecretStore } from './secret-store.ts';

export interface AccessToken {
  value: string;
  refreshedAt: number;
  expiresAt?: number;
}

/** True while `access` may still be handed out (see `renewalTimes`); a token without an expiry always may. */
export function isUsable(access: AccessToken, now: number): boolean {
  return access.expiresAt === undefined || now < renewalTimes(access.refreshedAt, access.expiresAt).staleAt;
}

/** What the access-token entry holds: the token, what and whom it was issued for, and the entry generation it was stored at. */
interface StoredAccess {
  v: 1;
  access_token: string;
  refreshed_at: number;
  expires_at: number;
  /** The user it was issued to: another process may have signed in someone else since. */
  sub: string;
  /** The session entry's generation (see RefreshLock) when it was stored: any later change of the entry makes it stale. */
  generation?: string;
  issuer: string;
  client_id: string;
  scope: string;
  audience?: string;
  resource?: string;
}

/**
 * The access token every process of a session shares (the app, any number of
 * CLIs), in its own keychain entry beside the refresh token's: JWT access
 * tokens can outgrow one secret (Windows Credential Manager: 2,560 bytes), and
 * a process that only needs an access token then never touches the refresh
 * token. Never on disk, never logged.
 */
export interface AccessCache {
  /**
   * The cached token, or undefined when there is none, or it was issued for another issuer, client,
   * scope, audience or user than `sub`, or stored before the session entry last changed (a sign-in,
   * a sign-out or a refresh elsewhere since): a token for the wrong user or session is never handed out.
   */
  read(sub: string | undefined): Promise<AccessToken | undefined>;
  /** Stores `access` as issued to `sub`, at the entry's current generation (call it under the lock). */
  write(access: AccessToken, sub: string): Promise<void>;
  remove(): Promise<void>;
}

/** The keychain account of a session's access token (see `keychainAccount` for the refresh token's). */
export function accessCacheAccount(refreshAccount: string): string {
  return `${refreshAccount}#access-token`;
}

export function openAccessCache(deps: {
  config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource'>;
  secretStore: SecretStore;
  refreshAccount: string;
  /** The session entry's lock file, whose generation the cached token is tied to. */
  lockPath: string;
  logger: Logger;
}): AccessCache {
  const { config, secretStore, logger, lockPath } = deps;
  const account = accessCacheAccount(deps.refreshAccount);
  // A memory-only store is this process's alone: nothing to share.
  const enabled = secretStore.kind === 'os';

  const issuedForThis = (stored: Partial<StoredAccess>): boolean =>
    stored.issuer === config.issuer &&
    stored.client_id === config.clientId &&
    stored.scope === config.scope &&
    stored.audience === config.audience &&
    stored.resource === config.resource;

  return {
    async read(sub) {
      if (!enabled || sub === undefined) return undefined;
      let raw: string | null;
      try {
        raw = await secretStore.get(account);
      } catch (readError) {
        logger.debug('access token cache unreadable', { error: String(readError) });
        return undefined;
      }
      if (raw === null) return undefined;
      try {
        const stored = JSON.parse(raw) as Partial<StoredAccess>;
        if (stored.v !== 1 || typeof stored.access_token !== 'string' || typeof stored.expires_at !== 'number' || typeof stored.refreshed_at !== 'number') return undefined;
        if (!issuedForThis(stored) || stored.sub !== sub || stored.generation !== readEntryGeneration(lockPath)) return undefined;
        return { value: stored.access_token, refreshedAt: stored.refreshed_at, expiresAt: stored.expires_at };
      } catch {
        return undefined;
      }
    },

    async write(access, sub) {
      // Without an expiry no other process could tell when to stop using it.
      if (!enabled || access.expiresAt === undefined) return;
      const generation = readEntryGeneration(lockPath);
      const stored: StoredAccess = {
        v: 1,
        access_token: access.value,
        refreshed_at: access.refreshedAt,
        expires_at: access.expiresAt,
        sub,
        ...(generation !== undefined ? { generation } : {}),
        issuer: config.issuer,
        client_id: config.clientId,
        scope: config.scope,
        ...(config.audience !== undefined ? { audience: config.audience } : {}),
        ...(config.resource !== undefined ? { resource: config.resource } : {}),
      };
      await secretStore.set(account, JSON.stringify(stored)).catch((writeError: unknown) => logger.warn('could not cache the access token', { error: String(writeError) }));
    },

    async remove() {
      if (!enabled) return;
      await secretStore.delete(account).catch((deleteError: unknown) => logger.warn('could not delete the cached access token', { error: String(deleteError) }));
    },
  };
}
