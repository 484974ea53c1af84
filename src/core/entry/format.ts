import type { StandsOn } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { parseStoredDpopKey, type StoredDpopKey } from '../dpop/key.ts';
import { IN_OWN_ENTRY, MAX_SECRET_BYTES, type StoredAccess } from './shared-access-token.ts';

// The session's keychain entry as text: what it holds, how it is checked when read and laid out when written.

/**
 * What the keychain entry holds: the refresh token and only what is needed to
 * use it — or, from a provider that issues no refresh token but a long-lived
 * access token (a GitHub OAuth App), that access token instead.
 */
export type StoredSession = StoredFields & ({ refresh_token: string; access_token?: undefined } | { access_token: string; refresh_token?: undefined });

interface StoredFields {
  v: 1;
  issuer: string;
  client_id: string;
  sub: string;
  scope?: string;
  /** The access token every process of the session shares when it fits in one secret with the rest; `own-entry` when it did not (see shared-access-token.ts). */
  access?: StoredAccess | typeof IN_OWN_ENTRY;
  /** The session's DPoP private key (RFC 9449), when its tokens are bound: it lives and dies with the refresh token. */
  dpop_key?: StoredDpopKey;
  /** Which sign-in this entry is of (a random id made at sign-in): the shared tokens of its other APIs carry it. */
  sign_in?: string;
}

/** What an entry is written with. */
export interface EntryWrite {
  /** The token the session stands on: its refresh token, or (`standsOn` 'access_token') its long-lived access token. */
  token: string;
  standsOn: StandsOn;
  sub: string;
  scope: string | undefined;
  /** The session's DPoP private key (RFC 9449), stored with the token it binds. */
  dpopKey: StoredDpopKey | undefined;
  /** Which sign-in this is (see `StoredSession.sign_in`). */
  signIn?: string | undefined;
}

/**
 * The keychain account earlier versions kept their one session under (one entry per issuer and client): now the
 * first account's, and the base of every other account's (see accounts/account-index.ts `entryNameFor`).
 */
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
      if (typeof value.sign_in === 'string' && value.sign_in !== '') entry.sign_in = value.sign_in;
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
export function standsOnOf(stored: StoredSession): { token: string; standsOn: StandsOn } {
  return stored.access_token !== undefined ? { token: stored.access_token, standsOn: 'access_token' } : { token: stored.refresh_token, standsOn: 'refresh_token' };
}

/** The entry as stored, with `access` only when the whole still fits in one secret (else marked as in its own item). */
export function serializeEntry(config: Pick<AuthConfig, 'issuer' | 'clientId'>, write: EntryWrite, access: StoredAccess | undefined): { serialized: string; withAccess: boolean } {
  const entry: StoredSession = { v: 1, ...(write.standsOn === 'access_token' ? { access_token: write.token } : { refresh_token: write.token }), issuer: config.issuer, client_id: config.clientId, sub: write.sub };
  if (write.scope) entry.scope = write.scope;
  if (write.dpopKey) entry.dpop_key = write.dpopKey;
  if (write.signIn) entry.sign_in = write.signIn;
  if (!access) return { serialized: JSON.stringify(entry), withAccess: false };
  const combined = JSON.stringify({ ...entry, access });
  if (Buffer.byteLength(combined, 'utf8') <= MAX_SECRET_BYTES) return { serialized: combined, withAccess: true };
  return { serialized: JSON.stringify({ ...entry, access: IN_OWN_ENTRY }), withAccess: false };
}
