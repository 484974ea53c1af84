import type { AccessToken } from './access-cache.ts';
import { importDpopKey, type DpopKey, type StoredDpopKey } from './dpop.ts';
import type { TokenResult } from './provider-client.ts';

// Where a session meets its DPoP key (RFC 9449): the hook points session.ts and refresh-flight.ts call.

/** What an access token from `result` records of its binding: a `dpop` token is bound to `key`. */
export function boundAccess(result: Pick<TokenResult, 'tokenType'>, key: DpopKey | undefined): Pick<AccessToken, 'tokenType' | 'jkt'> {
  return result.tokenType === 'dpop' && key ? { tokenType: 'dpop', jkt: key.jkt } : {};
}

/** The key another process stored with the session (a sign-in there makes a new one): the one we hold when it is the same. */
export async function adoptStoredDpopKey(held: DpopKey | undefined, stored: StoredDpopKey | undefined): Promise<DpopKey | undefined> {
  if (!stored) return undefined;
  if (held && held.toStored().d === stored.d) return held;
  return importDpopKey(stored);
}

/** A shared access token is of use only with the key it is bound to (or, bearer, to a bearer session). */
export function usableWithKey(access: AccessToken | undefined, key: DpopKey | undefined): AccessToken | undefined {
  return access && access.jkt === key?.jkt ? access : undefined;
}
