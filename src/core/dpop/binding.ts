import type { AccessToken } from '../entry/shared-access-token.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { chooseTokenBinding, createDpopKey, importDpopKey, type DpopKey, type StoredDpopKey } from './key.ts';
import { AuthError } from '../errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { TokenResult } from '../protocol/flow-context.ts';

/**
 * RFC 9449: a new key for each sign-in, made before the browser opens (its thumbprint goes in the request) or a
 * device code is requested — when the provider gets DPoP (its metadata, or its preset: `presetOffersDpop`).
 */
export async function keyForSignIn(config: Pick<AuthConfig, 'dpop' | 'issuer'>, metadata: Record<string, unknown>, presetOffersDpop = false): Promise<DpopKey | undefined> {
  return chooseTokenBinding(config.dpop, metadata, config.issuer, presetOffersDpop) === 'dpop' ? createDpopKey() : undefined;
}

/** Under `required`, a sign-in answered with unbound tokens is refused, saying so; `discard` ends them at the provider first. */
export function assertBoundAsRequired(config: Pick<AuthConfig, 'dpop' | 'issuer'>, result: Pick<TokenResult, 'tokenType'>, discard: () => void): void {
  if (config.dpop !== 'required' || result.tokenType === 'dpop') return;
  discard();
  throw new AuthError(
    'provider_error',
    `DPoP is required (AUTH_DPOP=required) but the provider at ${config.issuer} answered the sign-in with unbound (${result.tokenType ?? 'bearer'}) tokens. Enable DPoP for this application at the provider, or set AUTH_DPOP=auto.`,
  );
}

/** The key stored with the session. One WebCrypto refuses leaves the session unbound here: its next refresh is refused and it ends, as a lost key must. */
export async function loadStoredDpopKey(stored: StoredDpopKey | undefined, logger: Logger): Promise<DpopKey | undefined> {
  if (!stored) return undefined;
  try {
    return await importDpopKey(stored);
  } catch (importError) {
    logger.warn('the stored DPoP key is unusable', { error: String(importError) });
    return undefined;
  }
}

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
