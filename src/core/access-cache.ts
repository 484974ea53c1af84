import type { AuthConfig } from './config.ts';
import type { Logger } from './log.ts';
import { renewalTimes } from './renewal.ts';
import type { SecretStore } from './secret-store.ts';

export interface AccessToken {
  value: string;
  refreshedAt: number;
  expiresAt?: number;
  /** `dpop`: bound to the session's key (RFC 9449), sent as `Authorization: DPoP` with a proof; undefined: bearer. */
  tokenType?: 'dpop';
  /** The thumbprint of the key it is bound to. */
  jkt?: string;
}

/** True while `access` may still be handed out (see `renewalTimes`); a token without an expiry always may. */
export function isUsable(access: AccessToken, now: number): boolean {
  return access.expiresAt === undefined || now < renewalTimes(access.refreshedAt, access.expiresAt).staleAt;
}

/** What the access-token entry holds: the token and what it was issued for. */
interface StoredAccess {
  v: 1;
  access_token: string;
  refreshed_at: number;
  expires_at: number;
  issuer: string;
  client_id: string;
  scope: string;
  audience?: string;
  resource?: string;
  token_type?: 'dpop';
  jkt?: string;
}

/**
 * The access token every process of a session shares (the app, any number of
 * CLIs), in its own keychain entry beside the refresh token's: JWT access
 * tokens can outgrow one secret (Windows Credential Manager: 2,560 bytes), and
 * a process that only needs an access token then never touches the refresh
 * token. Never on disk, never logged.
 */
export interface AccessCache {
  /** The cached token, or undefined when there is none or it was issued for another issuer, client, scope or audience. */
  read(): Promise<AccessToken | undefined>;
  write(access: AccessToken): Promise<void>;
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
  logger: Logger;
}): AccessCache {
  const { config, secretStore, logger } = deps;
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
    async read() {
      if (!enabled) return undefined;
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
        if (!issuedForThis(stored)) return undefined;
        const access: AccessToken = { value: stored.access_token, refreshedAt: stored.refreshed_at, expiresAt: stored.expires_at };
        if (stored.token_type === 'dpop' && typeof stored.jkt === 'string') Object.assign(access, { tokenType: 'dpop', jkt: stored.jkt });
        return access;
      } catch {
        return undefined;
      }
    },

    async write(access) {
      // Without an expiry no other process could tell when to stop using it.
      if (!enabled || access.expiresAt === undefined) return;
      const stored: StoredAccess = {
        v: 1,
        access_token: access.value,
        refreshed_at: access.refreshedAt,
        expires_at: access.expiresAt,
        issuer: config.issuer,
        client_id: config.clientId,
        scope: config.scope,
        ...(config.audience !== undefined ? { audience: config.audience } : {}),
        ...(config.resource !== undefined ? { resource: config.resource } : {}),
        ...(access.tokenType === 'dpop' ? { token_type: 'dpop' as const, jkt: access.jkt } : {}),
      };
      await secretStore.set(account, JSON.stringify(stored)).catch((writeError: unknown) => logger.warn('could not cache the access token', { error: String(writeError) }));
    },

    async remove() {
      if (!enabled) return;
      await secretStore.delete(account).catch((deleteError: unknown) => logger.warn('could not delete the cached access token', { error: String(deleteError) }));
    },
  };
}
