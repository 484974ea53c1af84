// How an API's 401 asks for a DPoP nonce (RFC 9449 §9). Shared by the core (the CLI's and the
// bench's calls) and the renderer (its API calls), which each answer it once.

/** `WWW-Authenticate: DPoP error="use_dpop_nonce"` — resend with a proof carrying the `DPoP-Nonce` the answer gave. */
export function asksForDpopNonce(wwwAuthenticate: string | null | undefined): boolean {
  if (typeof wwwAuthenticate !== 'string') return false;
  return /(?:^|,)\s*DPoP\s/i.test(wwwAuthenticate) && /\berror\s*=\s*"?use_dpop_nonce"?/i.test(wwwAuthenticate);
}
