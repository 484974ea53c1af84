// What a provider's answer means — or its silence: every failure of a request to the
// provider (discovery, sign-in, refresh, revocation) becomes one AuthError code with a
// sentence that says what to do. The OAuth error answers (which end a session, 429's
// Retry-After) first, then the transport and the ID token checks around them.
import * as oidc from 'openid-client';
import { clockSkewError } from '../net/clock-skew.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError, signInDenied } from '../errors.ts';
import { inertText } from '../../shared/inert-text.ts';

export type ProviderOperation = 'sign-in' | 'refresh' | 'revocation';

/**
 * What the provider's HTTP answer to a token or revocation request means, when
 * it did answer with an error status; undefined for anything else (no answer,
 * a 2xx that is not a token response, a 5xx without an OAuth body), which the
 * caller treats as "could not be reached".
 *
 * The rule for a refresh, the same for every provider (docs/staying-signed-in.md, "What ends a session"):
 * - `invalid_grant` with any status (Auth0 answers a dead token with 403), or
 *   400, 401 or 403 with an OAuth error body (RFC 6749 §5.2), whatever its
 *   `error`, ends the session: the provider has looked at the refresh token and
 *   said no (a 2xx with an `error` body, as GitHub sends, arrives here as a 400:
 *   see `readTokenAnswer`);
 * - 400 or 401 with no OAuth body ends it too: the provider answered and
 *   refused, and asking again with the same token cannot succeed (Glewlwyd
 *   answers a spent or revoked refresh token exactly so; retrying would only
 *   add to its reuse log);
 * - 429 keeps the session and backs off for `Retry-After` (RFC 6585 §4);
 * - 5xx, `server_error` and `temporarily_unavailable` keep the session.
 */
export function classifyProviderAnswer(error: unknown, operation: ProviderOperation): AuthError | undefined {
  if (error instanceof oidc.ResponseBodyError) {
    const described = describeProviderError(error.error, error.error_description);
    const refused = error.error === 'invalid_grant' || error.status === 400 || error.status === 401 || error.status === 403;
    if (error.status === 429) return tooManyRequests(operation, error.response, error);
    if ((error.status >= 500 && error.error !== 'invalid_grant') || error.error === 'temporarily_unavailable' || error.error === 'server_error') {
      return new AuthError('provider_unreachable', `The provider could not handle the ${operation} right now (HTTP ${error.status}: ${described}). ${laterAdvice(operation)}`, { cause: error });
    }
    if (operation === 'refresh' && refused) {
      return new AuthError('session_ended', `Your session ended at the provider: it refused the refresh (${described}). Sign in again.`, { cause: error });
    }
    const advice = operation === 'sign-in' ? 'Sign in again; if it keeps failing, check the application settings at the provider (`latchkey doctor`).' : 'Check the application settings at the provider (`latchkey doctor`).';
    return new AuthError('provider_error', `The provider refused the ${operation}: ${described}. ${advice}`, { cause: error });
  }

  const response = unparsedErrorResponse(error);
  if (!response) return undefined;
  const { status } = response;
  if (status === 429) return tooManyRequests(operation, response, error);
  if (status !== 400 && status !== 401) return undefined;
  switch (operation) {
    case 'refresh':
      return new AuthError('session_ended', `Your session ended at the provider: it refused the refresh (HTTP ${status}, without an explanation). Sign in again.`, { cause: error });
    case 'revocation':
      return new AuthError('provider_error', `The provider refused to revoke the session (HTTP ${status}).`, { cause: error });
    case 'sign-in':
      return new AuthError('provider_error', `The provider refused the sign-in (HTTP ${status}, without an explanation). Check the application settings at the provider (\`latchkey doctor\`).`, { cause: error });
  }
}

/** An `AuthError` for 429, carrying how long the provider asked us to wait. */
function tooManyRequests(operation: ProviderOperation, response: Response, cause: unknown): AuthError {
  const waitMs = retryAfterMs(response.headers);
  const wait = waitMs === undefined ? '' : ` and asked to wait ${Math.ceil(waitMs / 1000)} s`;
  const error = new AuthError('provider_unreachable', `The provider is rate-limiting requests (HTTP 429)${wait}. ${laterAdvice(operation)}`, { cause });
  if (waitMs !== undefined) error.retryAfterMs = waitMs;
  return error;
}

function laterAdvice(operation: ProviderOperation): string {
  return operation === 'refresh' ? 'Your session is kept; Latchkey tries again later.' : 'Try again later.';
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) in ms: delay-seconds, or an HTTP-date
 * measured against the same answer's `Date` header so that this computer's
 * clock does not matter. Undefined when absent or unusable.
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  const now = Date.parse(headers.get('date') ?? '');
  if (Number.isNaN(at) || Number.isNaN(now)) return undefined;
  return Math.max(0, at - now);
}

/** The Response behind openid-client's "not JSON" / "unexpected status" errors: an HTTP answer without an OAuth error body. */
function unparsedErrorResponse(error: unknown): Response | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (code !== 'OAUTH_RESPONSE_IS_NOT_JSON' && code !== 'OAUTH_RESPONSE_IS_NOT_CONFORM') continue;
    // Duck-typed: the transport's fetch (undici) has its own Response class.
    const response = (current as { cause?: unknown }).cause as Partial<Response> | undefined;
    return typeof response?.status === 'number' && typeof response.headers?.get === 'function' ? (response as Response) : undefined;
  }
  return undefined;
}

/**
 * Maps what openid-client and the transport throw onto the auth core's codes,
 * so callers can tell "sign in again" from "try again later" (RFC 6749 §5.2):
 * the provider's error answers are judged by `classifyProviderAnswer` (a refresh
 * refused with 400/401 → `session_ended`, 429 → back off); no answer, a timeout,
 * a 5xx or a 2xx that is not a token response → `provider_unreachable` (the
 * refresh token is still good); an ID token that fails validation →
 * `id_token_invalid`; anything else → `provider_error`.
 */
export function classifyProviderError(error: unknown, context: { operation: ProviderOperation }): AuthError {
  const explained = transportError(error) ?? clockSkewError(error);
  if (explained) return explained;
  const { operation } = context;

  const answered = classifyProviderAnswer(error, operation);
  if (answered) return answered;

  const unreachable = unreachableReason(error);
  if (unreachable) {
    return new AuthError('provider_unreachable', `The provider could not be reached for the ${operation} (${unreachable}). Check your network connection and proxy settings.${operation === 'refresh' ? ' Your session is kept; Latchkey tries again later.' : ''}`, { cause: error });
  }

  const detail = innermostMessage(error);
  if (isIdTokenProblem(error, detail)) {
    return new AuthError('id_token_invalid', `The provider's ID token failed validation (${detail}). Check this computer's clock and the client id, then sign in again.`, { cause: error });
  }
  if (/"iss" \(issuer\) (response parameter|missing)|response parameter "iss"/.test(detail)) {
    return new AuthError('provider_error', `The authorization response did not come from the configured issuer (${detail}; RFC 9207), so it was refused. Sign in again; if it persists, check AUTH_ISSUER.`, { cause: error });
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return signInDenied(error.error, error.error_description, { cause: error });
  }
  return new AuthError('provider_error', `The ${operation} failed: ${detail}. Run \`latchkey doctor\` to check the configuration against the provider.`, { cause: error });
}

const UNREACHABLE_CODES = new Set(['OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_PARSE_ERROR', 'OAUTH_TIMEOUT', 'OAUTH_ABORT']);
const ID_TOKEN_CODES = new Set(['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_KEY_SELECTION_FAILED']);
const NETWORK_ERROR_CODES = /^(UND_ERR_|ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNRESET)/;

/** A short reason when the error means "no usable answer came back", else undefined. */
function unreachableReason(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = codeOf(current);
    const name = (current as { name?: unknown }).name;
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      const response = (current as { cause?: unknown }).cause;
      const status = response instanceof Object && 'status' in response ? ` (HTTP ${String(response.status)})` : '';
      return `${code === 'OAUTH_RESPONSE_IS_NOT_JSON' ? 'the answer was not JSON' : 'unexpected HTTP status'}${status}`;
    }
    if (code && (UNREACHABLE_CODES.has(code) || NETWORK_ERROR_CODES.test(code))) return code === 'OAUTH_TIMEOUT' ? 'timed out' : code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    if (current instanceof TypeError && current.message === 'fetch failed') {
      const cause = (current as { cause?: unknown }).cause;
      return codeOf(cause) ?? messageOf(cause ?? current);
    }
  }
  return undefined;
}

/** ID token checks (signature, iss, aud, exp, iat, nonce) surface as these codes, or as INVALID_RESPONSE about a JWT. */
function isIdTokenProblem(error: unknown, detail: string): boolean {
  const code = codeOf(error);
  if (code && ID_TOKEN_CODES.has(code)) return true;
  return code === 'OAUTH_INVALID_RESPONSE' && /\bJWT\b|ID Token|id_token/.test(detail);
}

/** openid-client wraps oauth4webapi's precise error in a generic one; the precise message is the useful one. */
function innermostMessage(error: unknown): string {
  let message = messageOf(error);
  for (let current = (error as { cause?: unknown })?.cause, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    message = current.message;
  }
  return message;
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Object && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The transport's own AuthError (a proxy's 407, a refused certificate), which openid-client wraps as the cause of its error. */
function transportError(error: unknown): AuthError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    if (current instanceof AuthError) return current;
  }
  return undefined;
}

export function discoveryError(config: AuthConfig, error: unknown): AuthError {
  const explained = transportError(error);
  if (explained) return explained;
  const where = config.usesDemoProvider ? `the demo provider at ${config.issuer}` : `the provider at ${config.issuer}`;
  const unreachable = unreachableReason(error);
  const reason = unreachable ?? messageOf(error);
  const fix = config.usesDemoProvider
    ? 'Start it with `npm run idp`, or configure your own provider (AUTH_ISSUER or AUTH0_DOMAIN and AUTH_CLIENT_ID).'
    : unreachable
      ? 'Check your network connection and proxy settings (HTTPS_PROXY, NO_PROXY), and that the issuer URL is right.'
      : 'Check that AUTH_ISSUER (or AUTH0_DOMAIN) is exactly the issuer your provider publishes in its /.well-known/openid-configuration.';
  return new AuthError('provider_unreachable', `Could not load the sign-in configuration of ${where} (${reason}). ${fix}`, { cause: error });
}

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
export function describeProviderError(providerCode: string, description?: string | null): string {
  // The provider's words, one inert line each: they end up on a terminal and in the window.
  const code = inertText(providerCode);
  const detail = (description ? inertText(description) : undefined)?.trim().replace(/[\s.]+$/, '') || undefined;
  const aadsts = aadstsNumber(detail);
  const meaning = (aadsts ? AADSTS_SESSION_OVER[aadsts] : undefined) ?? KNOWN_CODES[code];
  const words = `${code}${detail ? ` — ${detail}` : ''}`;
  if (!isKnownErrorCode(code)) return `the provider's own error code "${code}"${detail ? `, described as: ${detail}` : ' (no description given)'}`;
  return meaning ? `${words}; that is, ${meaning}` : words;
}

export function throwAs(operation: 'sign-in' | 'refresh'): (error: unknown) => never {
  return (error) => {
    throw classifyProviderError(error, { operation });
  };
}
