import type { AuthConfig } from '../config/auth-config.ts';
import type { Logger } from '../../shared/logger.ts';
import { readEntryGeneration } from './lock.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import { renewalTimes } from '../tokens/retry-schedule.ts';
import type { Keychain } from '../keychain/keychain.ts';

export interface AccessToken {
  value: string;
  refreshedAt: number;
  expiresAt?: number;
  /** `dpop`: bound to the session's key (RFC 9449), sent as `Authorization: DPoP` with a proof; undefined: bearer. */
  tokenType?: 'dpop';
  /** The thumbprint of the key it is bound to. */
  jkt?: string;
}

/** The access token a token response carries (the ID token is not kept: nothing needs it once validated). */
export function accessFrom(result: TokenResult, now: number): AccessToken {
  return result.expiresAt === undefined ? { value: result.accessToken, refreshedAt: now } : { value: result.accessToken, refreshedAt: now, expiresAt: result.expiresAt };
}

/** True while `access` may still be handed out (see `renewalTimes`); a token without an expiry always may. */
export function isUsable(access: AccessToken, now: number): boolean {
  return access.expiresAt === undefined || now < renewalTimes(access.refreshedAt, access.expiresAt).staleAt;
}

/** True when `candidate` may replace `held`: another process refreshed, so this one need not. The one rule, wherever a shared token is read. */
export function isUsableAndNewer(candidate: AccessToken | undefined, held: AccessToken | undefined, now: number): candidate is AccessToken {
  if (!candidate || candidate.value === held?.value || !isUsable(candidate, now)) return false;
  return (candidate.expiresAt ?? Infinity) > (held?.expiresAt ?? 0);
}

/**
 * The shared access token as stored: the token and what it was issued for. It
 * rides in the session's keychain entry (`access`, see session-entry.ts), so a
 * refresh stores the rotated refresh token and the new access token in one
 * keychain write; only when the two together outgrow one secret does it go to
 * an entry of its own (`accessCacheAccount`).
 */
export interface StoredAccess {
  v: 1;
  access_token: string;
  refreshed_at: number;
  expires_at: number;
  /** The user it was issued to: another process may have signed in someone else since. */
  sub?: string;
  /** The session entry's generation (see RefreshLock) it was stored at: a later change of the entry makes it stale. */
  generation?: string;
  issuer: string;
  client_id: string;
  scope: string;
  audience?: string;
  resource?: string;
  token_type?: 'dpop';
  jkt?: string;
}

/**
 * The most a keychain secret may hold everywhere: Windows Credential Manager
 * caps a credential's blob at 2,560 bytes (CRED_MAX_CREDENTIAL_BLOB_SIZE,
 * https://learn.microsoft.com/en-us/windows/win32/api/wincred/ns-wincred-credentiala).
 * The same bound on every platform, so a session behaves alike on all of them.
 */
export const MAX_SECRET_BYTES = 2_560;

/** What the session entry's `access` says when the token is in its own entry (it did not fit). */
export const IN_OWN_ENTRY = 'own-entry';

type IssuedFor = Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource'>;
/** Whom, and at which generation of the session entry, a shared token was stored for. */
export interface AccessOwner {
  sub: string | undefined;
  generation: string | undefined;
}

/** `access` as stored for other processes, or undefined when it cannot be shared (no expiry: nobody could tell when to stop using it). */
export function encodeAccess(config: IssuedFor, access: AccessToken | undefined, owner: AccessOwner): StoredAccess | undefined {
  if (!access || access.expiresAt === undefined) return undefined;
  return {
    v: 1,
    access_token: access.value,
    refreshed_at: access.refreshedAt,
    expires_at: access.expiresAt,
    ...(owner.sub !== undefined ? { sub: owner.sub } : {}),
    ...(owner.generation !== undefined ? { generation: owner.generation } : {}),
    issuer: config.issuer,
    client_id: config.clientId,
    scope: config.scope,
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.resource !== undefined ? { resource: config.resource } : {}),
    ...(access.tokenType === 'dpop' && access.jkt !== undefined ? { token_type: 'dpop' as const, jkt: access.jkt } : {}),
  };
}

/**
 * The stored token, or undefined when it is malformed, or was issued for another issuer, client, scope,
 * audience or user than `owner.sub`, or stored at another generation of the session entry than
 * `owner.generation` (a sign-in, sign-out or refresh elsewhere since): a token for the wrong user or
 * session is never handed out.
 */
export function decodeAccess(config: IssuedFor, stored: unknown, owner: AccessOwner): AccessToken | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const value = stored as Partial<StoredAccess>;
  if (value.v !== 1 || typeof value.access_token !== 'string' || typeof value.expires_at !== 'number' || typeof value.refreshed_at !== 'number') return undefined;
  const issuedForThis =
    value.issuer === config.issuer && value.client_id === config.clientId && value.scope === config.scope && value.audience === config.audience && value.resource === config.resource &&
    owner.sub !== undefined && value.sub === owner.sub && value.generation === owner.generation;
  if (!issuedForThis) return undefined;
  const access: AccessToken = { value: value.access_token, refreshedAt: value.refreshed_at, expiresAt: value.expires_at };
  return value.token_type === 'dpop' && typeof value.jkt === 'string' ? { ...access, tokenType: 'dpop', jkt: value.jkt } : access;
}

/**
 * The access token every process of a session shares (the app, any number of
 * CLIs): read from the session's keychain entry, or from the entry of its own
 * when it did not fit there. Never on disk, never logged.
 */
export interface SharedAccessToken {
  /** The shared token, or undefined when there is none or it was issued for something or someone else than `sub` (see `decodeAccess`). Never rejects. */
  read(sub: string | undefined): Promise<AccessToken | undefined>;
  /** The token for the session entry's `access` (just read, for `sub`): decoded, or read from its own entry when it says so. */
  fromEntry(access: unknown, sub: string | undefined): Promise<AccessToken | undefined>;
  /** Stores `access` in its own entry: for a token too large to ride in the session's entry. */
  writeOwnEntry(access: StoredAccess): Promise<void>;
  /** Deletes the token's own entry (the session entry's copy goes with that entry). */
  remove(): Promise<void>;
}

/** The keychain account of a shared access token too large for the session's entry (see `keychainAccount` for that one's). */
export function sharedTokenAccount(refreshAccount: string): string {
  return `${refreshAccount}#access-token`;
}

export function openSharedAccessToken(deps: { config: IssuedFor; secretStore: Keychain; refreshAccount: string; lockPath: string; logger: Logger }): SharedAccessToken {
  const { config, secretStore, logger } = deps;
  const account = sharedTokenAccount(deps.refreshAccount);
  // A memory-only store is this process's alone: nothing to share.
  const enabled = secretStore.kind === 'os';

  const readStored = async (from: string): Promise<unknown> => {
    try {
      const raw = await secretStore.get(from);
      return raw === null ? undefined : (JSON.parse(raw) as unknown);
    } catch (readError) {
      logger.debug('shared access token unreadable', { error: String(readError) });
      return undefined;
    }
  };

  const fromEntry = async (access: unknown, sub: string | undefined): Promise<AccessToken | undefined> => {
    if (!enabled || access === undefined) return undefined;
    return decodeAccess(config, access === IN_OWN_ENTRY ? await readStored(account) : access, { sub, generation: readEntryGeneration(deps.lockPath) });
  };

  return {
    async read(sub) {
      if (!enabled) return undefined;
      const entry = await readStored(deps.refreshAccount);
      return fromEntry(typeof entry === 'object' && entry !== null ? (entry as { access?: unknown }).access : undefined, sub);
    },

    fromEntry,

    async writeOwnEntry(access) {
      if (!enabled) return;
      await secretStore.set(account, JSON.stringify(access)).catch((writeError: unknown) => logger.warn('could not store the shared access token', { error: String(writeError) }));
    },

    async remove() {
      if (!enabled) return;
      await secretStore.delete(account).catch((deleteError: unknown) => logger.warn('could not delete the shared access token', { error: String(deleteError) }));
    },
  };
}
