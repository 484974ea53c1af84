import * as oidc from 'openid-client';
import { clockSkewError } from './clock-skew.ts';
import type { AuthConfig } from './config.ts';
import { AuthError, loginDenied } from './errors.ts';
import { classifyProviderAnswer } from './provider-answers.ts';

/**
 * Maps what openid-client and the transport throw onto the auth core's codes,
 * so callers can tell "sign in again" from "try again later" (RFC 6749 §5.2):
 * the provider's error answers are judged by `classifyProviderAnswer` (a refresh
 * refused with 400/401 → `session_ended`, 429 → back off); no answer, a timeout,
 * a 5xx or a 2xx that is not a token response → `provider_unreachable` (the
 * refresh token is still good); an ID token that fails validation →
 * `id_token_invalid`; anything else → `provider_error`.
 */
export function classifyProviderError(error: unknown, context: { operation: 'sign-in' | 'refresh' | 'revocation' }): AuthError {
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
    return loginDenied(error.error, error.error_description, { cause: error });
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
