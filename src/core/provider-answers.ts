import * as oidc from 'openid-client';
import { AuthError } from './errors.ts';
import { describeProviderError } from './providers/error-words.ts';

export type ProviderOperation = 'sign-in' | 'refresh' | 'revocation';

/**
 * What the provider's HTTP answer to a token or revocation request means, when
 * it did answer with an error status; undefined for anything else (no answer,
 * a 2xx that is not a token response, a 5xx without an OAuth body), which the
 * caller treats as "could not be reached".
 *
 * The rule for a refresh, the same for every provider (README, "What ends a session"):
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
