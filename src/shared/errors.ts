// The one error vocabulary. Every code that crosses IPC, reaches the CLI's exit
// codes or is shown to a user is in `ErrorCode`; the CLI's exit-code table and
// the renderer's handling are `Record<ErrorCode, …>`, so a new code does not
// compile until both say what it means.

/** Why an auth operation failed: the auth core's `AuthError.code`. */
const AUTH_ERROR_CODES = [
  'config_invalid',
  'sign_in_cancelled',
  'sign_in_timeout',
  'sign_in_denied',
  'browser_unavailable',
  'port_in_use',
  'state_mismatch',
  'id_token_invalid',
  'provider_unreachable',
  'provider_error',
  /** The proxy between this computer and the provider answered 407: it needs credentials it was not given (or refused them). */
  'proxy_auth_required',
  /** The provider's TLS certificate is not trusted here — often a company proxy inspecting TLS with its own root certificate. */
  'certificate_untrusted',
  'signed_out',
  'session_ended',
  'keychain_unavailable',
  /** A session is stored, but the keychain is locked: unlock it and retry; the session is kept. */
  'keychain_locked',
  /** A session is stored, but the keychain refused access to it (e.g. "Deny" on macOS); the session is kept. */
  'keychain_refused',
  'invalid_argument',
  /** No account of that name or `sub` is signed in here (`--account`, LATCHKEY_ACCOUNT, `switch`). */
  'account_unknown',
  /** A sign-in that was to renew one account came back as another user: refused, nothing changed. */
  'account_mismatch',
] as const;

/** Why an API call from the window failed (the renderer's `ApiError.code`). */
const API_ERROR_CODES = ['api_unauthorized', 'api_unreachable'] as const;

/** `sender_refused`: an IPC call from a frame that is not the app's own page. `internal_error`: a bug. */
const ERROR_CODES: readonly string[] = [...AUTH_ERROR_CODES, ...API_ERROR_CODES, 'sender_refused', 'internal_error'];

export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
/** Every code a user or a caller can see. */
export type ErrorCode = AuthErrorCode | ApiErrorCode | 'sender_refused' | 'internal_error';

/** How an error crosses IPC and is shown: a stable code to switch on and a sentence for the user. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.includes(value);
}

/**
 * `{ code, message }` from anything thrown or rejected: an `AuthError`, an
 * `ApiError`, a bridge rejection (a plain object) — or, for anything without
 * one of our codes, `internal_error` with its message.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof message === 'string') return { code: isErrorCode(code) ? code : 'internal_error', message };
  }
  return { code: 'internal_error', message: String(error) };
}
