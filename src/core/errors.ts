import type { AuthErrorCode } from '../shared/errors.ts';
import { inertText } from '../shared/inert-text.ts';
import { redactSecrets } from './log.ts';


/**
 * An auth failure with a stable `code` and a message a user can act on. The
 * message is redacted (`redactSecrets`) as it is made: it is shown in the
 * window and on the CLI's stderr, and may quote a provider's words.
 */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;
  /** How long the provider asked us to wait before trying again (HTTP 429 `Retry-After`). */
  retryAfterMs?: number;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.code = code;
  }
}

/** The provider's error response to the authorization request (RFC 6749 §4.1.2.1), as one sentence. */
export function signInDenied(error: string, description?: string | null, options?: { cause?: unknown }): AuthError {
  // The provider's words (from the redirect's query), one inert line each.
  const detail = description ? inertText(description).trim().replace(/[\s.]+$/, '') : undefined;
  return new AuthError('sign_in_denied', `The provider did not sign you in: ${inertText(error)}${detail ? ` — ${detail}` : ''}.`, options);
}

/** What a caller hears when no session is held: the one sentence for it. */
export function notSignedIn(): AuthError {
  return new AuthError('signed_out', 'You are not signed in — sign in first.');
}
