import type { DpopKey } from '../dpop/key.ts';

// An access token in memory: what it is bound to, and when it may be handed out or must be renewed.

export interface AccessToken {
  value: string;
  refreshedAt: number;
  expiresAt?: number;
  /** `dpop`: bound to the session's key (RFC 9449), sent as `Authorization: DPoP` with a proof; undefined: bearer. */
  tokenType?: 'dpop';
  /** The thumbprint of the key it is bound to. */
  jkt?: string;
  /** The sign-in it comes from: its `acr`, and `auth_time` (epoch seconds), when the provider said (RFC 9470). */
  acr?: string;
  authTime?: number;
}

/**
 * The access token a token response carries (the ID token is not kept: nothing needs it once validated),
 * obtained at `now`; a `dpop` token records the thumbprint of the key it is bound to.
 */
export function accessFrom(
  result: { accessToken: string; expiresAt?: number | undefined; tokenType?: 'dpop' | 'bearer' | undefined; signedInWith?: { acr?: string; authTime?: number } | undefined },
  now: number,
  key: DpopKey | undefined,
  before?: AccessToken,
): AccessToken {
  const access: AccessToken = { value: result.accessToken, refreshedAt: now };
  if (result.expiresAt !== undefined) access.expiresAt = result.expiresAt;
  // A refresh whose answer does not say how the user signed in is of the same sign-in as the token before it.
  const acr = result.signedInWith?.acr ?? before?.acr;
  const authTime = result.signedInWith?.authTime ?? before?.authTime;
  if (acr !== undefined) access.acr = acr;
  if (authTime !== undefined) access.authTime = authTime;
  if (result.tokenType === 'dpop' && key) Object.assign(access, { tokenType: 'dpop', jkt: key.jkt });
  return access;
}

/** True while `access` may still be handed out (see `renewalTimes`); a token without an expiry always may. */
export function isUsable(access: AccessToken, now: number): boolean {
  return access.expiresAt === undefined || now < renewalTimes(access.refreshedAt, access.expiresAt).staleAt;
}

/** True when `candidate` may replace `current`: another process refreshed, so this one need not. The one rule, wherever a shared token is read. */
export function isUsableAndNewer(candidate: AccessToken | undefined, current: AccessToken | undefined, now: number): candidate is AccessToken {
  if (!candidate || candidate.value === current?.value || !isUsable(candidate, now)) return false;
  return (candidate.expiresAt ?? Infinity) > (current?.expiresAt ?? 0);
}

/**
 * When to renew an access token that expires at `expiresAt`, having been
 * obtained at `refreshedAt`. It is handed out until two seconds (at most half
 * its lifetime) before `expiresAt`: JWT `exp` counts whole seconds, so the
 * token may really expire up to a second before our estimate, and it still has
 * to reach the API. From `refreshAt` on it is still handed out while a refresh
 * runs in the background; from `staleAt` on callers wait for a new one. Both
 * scale with the lifetime, so 5-second tokens work as well as hours.
 */
export function renewalTimes(refreshedAt: number, expiresAt: number): { refreshAt: number; staleAt: number } {
  const lifetime = Math.max(0, expiresAt - refreshedAt);
  const staleAt = expiresAt - Math.min(2_000, lifetime * 0.5);
  return { refreshAt: staleAt - Math.min(60_000, lifetime * 0.25), staleAt };
}

/** A shared access token is of use only with the key it is bound to (or, bearer, to a bearer session). */
export function usableWithKey(access: AccessToken | undefined, key: DpopKey | undefined): AccessToken | undefined {
  return access && access.jkt === key?.jkt ? access : undefined;
}
