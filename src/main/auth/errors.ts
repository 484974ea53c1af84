import type { ErrorInfo } from '../../shared/ipc.ts';

/**
 * The closed set of reasons an auth operation can fail. Stable strings: they
 * cross IPC, become CLI exit codes and are what callers `switch` on.
 */
export type AuthErrorCode =
  | 'config_invalid'
  | 'login_cancelled'
  | 'login_timeout'
  | 'login_denied'
  | 'port_in_use'
  | 'state_mismatch'
  | 'id_token_invalid'
  | 'provider_unreachable'
  | 'provider_error'
  | 'signed_out'
  | 'session_ended'
  | 'keychain_unavailable'
  | 'invalid_argument';

/** An auth failure with a stable `code` and a message a user can act on. */
export class AuthError extends Error {
  override name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The provider's error response to the authorization request (RFC 6749 §4.1.2.1), as one sentence. */
export function loginDenied(error: string, description?: string | null, options?: { cause?: unknown }): AuthError {
  const detail = description?.trim().replace(/[\s.]+$/, '');
  return new AuthError('login_denied', `The provider did not sign you in: ${error}${detail ? ` — ${detail}` : ''}.`, options);
}

/** The `{ code, message }` form errors take across IPC and in `AuthState.error`. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof AuthError) return { code: error.code, message: error.message };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}
