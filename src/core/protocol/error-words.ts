// What a provider's error code means, in words a person understands. One table for every dialect:
// the codes of RFC 6749 §5.2 / RFC 7009 / OpenID Connect Core §3.1.2.6, GitHub's own token-endpoint
// codes, and Microsoft Entra's AADSTS numbers that mean "the session is over".

const KNOWN_CODES: Record<string, string | undefined> = {
  invalid_request: undefined,
  invalid_client: 'the provider does not accept this client; check the client id, and the client secret where the provider needs one',
  invalid_grant: undefined,
  unauthorized_client: 'this client may not use that grant at the provider',
  unsupported_grant_type: 'the provider does not offer that grant to this client',
  invalid_scope: 'the provider refused a requested scope',
  access_denied: undefined,
  server_error: undefined,
  temporarily_unavailable: undefined,
  unsupported_token_type: undefined,
  interaction_required: 'the provider wants you to sign in interactively again',
  login_required: 'the provider wants you to sign in again',
  consent_required: 'the provider wants you to consent again',
  account_selection_required: undefined,
  invalid_token: undefined,
  // GitHub (docs.github.com …/refreshing-user-access-tokens, …/troubleshooting-oauth-app-access-token-request-errors)
  bad_refresh_token: 'the refresh token is expired, revoked or already used',
  bad_verification_code: 'the sign-in code was wrong or expired',
  incorrect_client_credentials: 'the client id or client secret is wrong',
  redirect_uri_mismatch: 'the redirect URI is not the one registered for this app',
  unverified_user_email: 'the account has no verified email address',
  // Room for the device grant and DPoP (RFC 8628 §3.5, RFC 9449 §8).
  authorization_pending: undefined,
  slow_down: undefined,
  expired_token: 'the code expired before you finished',
  invalid_dpop_proof: undefined,
  use_dpop_nonce: undefined,
};

/**
 * Microsoft Entra puts its reason in the description as `AADSTSnnnnn:`. These
 * numbers mean the session is over (learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
const AADSTS_SESSION_OVER: Record<string, string> = {
  '50076': 'your organization now requires multi-factor authentication for this sign-in',
  '50079': 'your organization now requires you to register for multi-factor authentication',
  '50173': 'your password was changed or the session was revoked',
  '50133': 'your password was changed, so the session was revoked',
  '50089': 'the sign-in flow expired',
  '54005': 'the sign-in code was already used',
  '65001': 'consent for this application is missing or was withdrawn',
  '70000': 'the grant is invalid or was revoked',
  '70008': 'the sign-in code or refresh token expired',
  '70043': 'the session expired (Conditional Access sign-in frequency, or inactivity)',
  '700082': 'the session expired after 90 days without use',
  '700084': 'the refresh token of this single-page-app registration reached its 24 hour limit',
  '50078': 'your organization requires multi-factor authentication again',
  '50097': 'your organization requires device authentication',
  '530003': 'your organization requires a managed device',
};

/** The AADSTS number at the start of an Entra description, if any. */
export function aadstsNumber(description: string | undefined): string | undefined {
  return /\bAADSTS(\d{5,6})\b/.exec(description ?? '')?.[1];
}

/** True when the code is one of the OAuth, OpenID Connect or known provider codes. */
export function isKnownErrorCode(code: string): boolean {
  return Object.hasOwn(KNOWN_CODES, code);
}

/**
 * The provider's own words and what they mean: `code — description`, then a
 * plain-language reason where one is known (an AADSTS number, GitHub's codes);
 * an unknown code is named as such with the provider's description, so the
 * person can look it up.
 */
export function describeProviderError(code: string, description?: string | null): string {
  const detail = description?.trim().replace(/[\s.]+$/, '') || undefined;
  const aadsts = aadstsNumber(detail);
  const meaning = (aadsts ? AADSTS_SESSION_OVER[aadsts] : undefined) ?? KNOWN_CODES[code];
  const words = `${code}${detail ? ` — ${detail}` : ''}`;
  if (!isKnownErrorCode(code)) return `the provider's own error code "${code}"${detail ? `, described as: ${detail}` : ' (no description given)'}`;
  return meaning ? `${words}; that is, ${meaning}` : words;
}
