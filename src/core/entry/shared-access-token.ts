import type { AuthConfig } from '../config/auth-config.ts';
import type { AccessToken } from '../tokens/access-token.ts';

/**
 * The shared access token as stored: the token and what it was issued for. It
 * rides in the session's keychain entry (`access`, see format.ts), so a
 * refresh stores the rotated refresh token and the new access token in one
 * keychain write; only when the two together outgrow one secret does it go to
 * an item of its own (`sharedTokenAccount`).
 */
export interface StoredAccess {
  v: 1;
  access_token: string;
  refreshed_at: number;
  expires_at: number;
  /** The user it was issued to: another process may have signed in someone else since. */
  sub?: string;
  /** The session entry's generation (see EntryLock) it was stored at: a later change of the entry makes it stale. */
  generation?: string;
  /**
   * Instead of a generation, for a token of a second API (in an item of its own): the sign-in it comes from (the
   * entry's `sign_in`). A refresh for another API changes the entry, not the sign-in, so this token stays good.
   */
  sign_in?: string;
  issuer: string;
  client_id: string;
  scope: string;
  audience?: string;
  resource?: string;
  token_type?: 'dpop';
  jkt?: string;
  /** How and when the user signed in (OpenID Connect `acr`, `auth_time`), as the provider said: what a step-up challenge is judged against. */
  acr?: string;
  auth_time?: number;
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
/** Whom, and at which generation of the session entry (or, for a second API's token, for which sign-in), a shared token was stored for. */
export interface AccessOwner {
  sub: string | undefined;
  generation: string | undefined;
  signIn?: string | undefined;
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
    ...(owner.signIn !== undefined ? { sign_in: owner.signIn } : {}),
    issuer: config.issuer,
    client_id: config.clientId,
    scope: config.scope,
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.resource !== undefined ? { resource: config.resource } : {}),
    ...(access.tokenType === 'dpop' && access.jkt !== undefined ? { token_type: 'dpop' as const, jkt: access.jkt } : {}),
    ...(access.acr !== undefined ? { acr: access.acr } : {}),
    ...(access.authTime !== undefined ? { auth_time: access.authTime } : {}),
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
    owner.sub !== undefined && value.sub === owner.sub && value.generation === owner.generation && value.sign_in === owner.signIn;
  if (!issuedForThis) return undefined;
  const access: AccessToken = { value: value.access_token, refreshedAt: value.refreshed_at, expiresAt: value.expires_at };
  if (typeof value.acr === 'string') access.acr = value.acr;
  if (typeof value.auth_time === 'number') access.authTime = value.auth_time;
  return value.token_type === 'dpop' && typeof value.jkt === 'string' ? { ...access, tokenType: 'dpop', jkt: value.jkt } : access;
}

/** The keychain account of the shared access token of a second API (`name`): each in an item of its own. */
export function apiTokenAccount(refreshAccount: string, name: string): string {
  return `${refreshAccount}#access-token@${name}`;
}

/** The keychain account of a shared access token too large for the session's entry (see `keychainAccount` for that one's). */
export function sharedTokenAccount(refreshAccount: string): string {
  return `${refreshAccount}#access-token`;
}
