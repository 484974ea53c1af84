import type { DpopMode } from '../config/values.ts';
import { AuthError } from '../errors.ts';
import { createDpopKey, type DpopKey } from './key.ts';
import { DPOP_ALGORITHM } from './proof.ts';

// Whether a session's tokens are bound to a DPoP key (RFC 9449 §5): the choice, the key a sign-in makes, and
// the refusal of unbound tokens under AUTH_DPOP=required.

/** How a session's tokens are bound: to this installation's key, or bearer. */
export type TokenBinding = 'dpop' | 'bearer';

/**
 * Whether a sign-in binds its tokens (RFC 9449 §5.1: a provider that supports
 * DPoP lists `dpop_signing_alg_values_supported` in its metadata). `auto` uses
 * DPoP where the provider offers ES256, or where its metadata lists no DPoP
 * algorithms but its preset documents DPoP support (`presetOffersDpop`: Okta,
 * Auth0, Keycloak); a metadata list without ES256 wins over the preset.
 * `required` refuses a provider that offers neither, saying why, before any
 * browser opens or code is shown; `off` never uses it.
 */
export function chooseTokenBinding(mode: DpopMode | undefined, metadata: Record<string, unknown>, issuer: string, presetOffersDpop = false): TokenBinding {
  if (mode === 'off') return 'bearer';
  const algorithms = metadata.dpop_signing_alg_values_supported;
  const listed = Array.isArray(algorithms) ? algorithms.filter((alg): alg is string => typeof alg === 'string') : [];
  if (listed.includes(DPOP_ALGORITHM)) return 'dpop';
  if (listed.length === 0 && presetOffersDpop) return 'dpop';
  if (mode !== 'required') return 'bearer';
  const why = listed.length === 0
    ? 'its metadata does not list dpop_signing_alg_values_supported, so it does not offer DPoP'
    : `it offers DPoP only with ${listed.join(', ')}, and Latchkey signs proofs with ${DPOP_ALGORITHM}`;
  throw new AuthError(
    'provider_error',
    `DPoP is required (AUTH_DPOP=required) but the provider at ${issuer} cannot bind tokens: ${why}. Enable DPoP for this application at the provider (docs/security.md, "DPoP at each provider", says where for Okta, Auth0 and Keycloak), or set AUTH_DPOP=auto to accept bearer tokens.`,
  );
}

/**
 * RFC 9449: a new key for each sign-in, made before the browser opens (its thumbprint goes in the request) or a
 * device code is requested — when the provider gets DPoP (its metadata, or its preset: `presetOffersDpop`).
 */
export async function keyForSignIn(config: { dpop?: DpopMode | undefined; issuer: string }, metadata: Record<string, unknown>, presetOffersDpop = false): Promise<DpopKey | undefined> {
  return chooseTokenBinding(config.dpop, metadata, config.issuer, presetOffersDpop) === 'dpop' ? createDpopKey() : undefined;
}

/** Under `required`, a sign-in answered with unbound tokens is refused, saying so; `discard` ends them at the provider first. */
export function assertBoundAsRequired(config: { dpop?: DpopMode | undefined; issuer: string }, result: { tokenType?: string | undefined }, discard: () => void): void {
  if (config.dpop !== 'required' || result.tokenType === 'dpop') return;
  discard();
  throw new AuthError(
    'provider_error',
    `DPoP is required (AUTH_DPOP=required) but the provider at ${config.issuer} answered the sign-in with unbound (${result.tokenType ?? 'bearer'}) tokens. Enable DPoP for this application at the provider, or set AUTH_DPOP=auto.`,
  );
}
