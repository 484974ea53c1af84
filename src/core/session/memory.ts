import type { AuthState, AuthStatus, DeviceCodePrompt, UserProfile } from '../../shared/auth-state.ts';
import type { ErrorInfo } from '../../shared/errors.ts';
import { accessFrom, type AccessToken } from '../entry/shared-access-token.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { DpopKey } from '../dpop/key.ts';
import { boundAccess } from '../dpop/binding.ts';
import type { Logger } from '../../shared/logger.ts';
import type { SessionEntry, StandsOn } from '../entry/entry.ts';
import type { TokenResult } from '../protocol/flow-context.ts';

// What the session store holds, and pure functions over it: the store (session-store.ts) stays the
// only place that assigns it.

/** What one process holds of a session. The refresh token is also in the keychain entry; the rest only here. */
export interface SessionMemory {
  refreshToken?: string;
  /** No refresh token: `access` (which never expires here) is the session, kept until it is refused (a GitHub OAuth App). */
  accessOnly?: true;
  scope?: string;
  access?: AccessToken;
  user?: UserProfile;
  /** The session's DPoP key (RFC 9449) when its tokens are bound; also in the keychain entry. */
  dpop?: DpopKey;
  /** The entry generation (see RefreshLock) this process last read or wrote the keychain entry at; undefined = re-read it. */
  generation?: string;
}

export interface SessionStateDeps {
  config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope' | 'audience' | 'resource'>;
  clock(): number;
  logger: Logger;
  /** A sign-in or sign-out is waiting for another process to finish with the keychain entry. */
  onLockWait?: () => void;
}

/** What `getState` is made of: the store's fields, read at one moment. */
export interface StoreSnapshot {
  status: AuthStatus;
  signingIn: boolean;
  keychainWaiting: boolean;
  held: Readonly<SessionMemory>;
  error: ErrorInfo | undefined;
  deviceCode: DeviceCodePrompt | undefined;
  /** Absent until the keychain is open. */
  entry?: Pick<SessionEntry, 'keychain' | 'notice'>;
}

/** The state the window and the CLI see. */
export function stateOf({ status, signingIn, keychainWaiting, held, error, deviceCode, entry }: StoreSnapshot): AuthState {
  if (status === 'starting' || !entry) return keychainWaiting ? { status: 'starting', keychainWaiting: true } : { status: 'starting' };
  const state: AuthState = { status: signingIn ? 'signing-in' : status, keychain: entry.keychain };
  if (held.user) state.user = { ...held.user };
  if (held.refreshToken || held.accessOnly) state.standsOn = held.accessOnly ? 'access_token' : 'refresh_token';
  const shown = error ?? entry.notice;
  if (shown) state.error = { ...shown };
  const { access } = held;
  if (access) {
    state.accessToken = access.expiresAt === undefined ? { refreshedAt: access.refreshedAt } : { refreshedAt: access.refreshedAt, expiresAt: access.expiresAt };
    if (access.tokenType === 'dpop') state.accessToken.dpop = true;
  }
  if (signingIn && deviceCode) state.deviceCode = { ...deviceCode };
  return state;
}

/** `held` standing on `standing`: its refresh token, or its long-lived access token (which never expires here). */
export function withStanding(held: Readonly<SessionMemory>, standing: { token: string; kind: StandsOn }, now: number): SessionMemory {
  const next: SessionMemory = { ...held };
  if (standing.kind === 'refresh_token') {
    next.refreshToken = standing.token;
    delete next.accessOnly;
    return next;
  }
  delete next.refreshToken;
  next.accessOnly = true;
  if (next.access?.value !== standing.token) next.access = { value: standing.token, refreshedAt: now };
  return next;
}

/** The tokens a sign-out revokes, each with its kind and DPoP key. */
export function heldTokens(held: Readonly<SessionMemory>): Map<string, { kind: StandsOn; dpop: DpopKey | undefined }> {
  const tokens = new Map<string, { kind: StandsOn; dpop: DpopKey | undefined }>();
  if (held.refreshToken) tokens.set(held.refreshToken, { kind: 'refresh_token', dpop: held.dpop });
  if (held.accessOnly && held.access) tokens.set(held.access.value, { kind: 'access_token', dpop: held.dpop });
  return tokens;
}

/** A completed sign-in as held: standing on its refresh token, or (`kind` 'access_token') on its long-lived access token. */
export function heldAfterSignIn(result: TokenResult, standing: { token: string; kind: StandsOn }, dpop: DpopKey | undefined, generation: string, now: number): SessionMemory {
  return {
    ...(standing.kind === 'access_token' ? { accessOnly: true as const } : { refreshToken: standing.token }),
    access: { ...accessFrom(result, now), ...boundAccess(result, dpop) },
    user: result.user ?? { sub: '' },
    ...(result.scope ? { scope: result.scope } : {}),
    ...(dpop ? { dpop } : {}),
    generation,
  };
}
