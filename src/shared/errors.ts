// The one error vocabulary. Every code that crosses IPC, reaches the CLI's exit
// codes or is shown to a user is in `ErrorCode`; the CLI's exit-code table and
// the renderer's handling are `Record<ErrorCode, …>`, so a new code does not
// compile until both say what it means.

/** Why an auth operation failed: the auth core's `AuthError.code`. */
export type AuthErrorCode =
  | 'config_invalid'
  | 'login_cancelled'
  | 'login_timeout'
  | 'login_denied'
  | 'browser_unavailable'
  | 'port_in_use'
  | 'state_mismatch'
  | 'id_token_invalid'
  | 'provider_unreachable'
  | 'provider_error'
  | 'signed_out'
  | 'session_ended'
  | 'keychain_unavailable'
  /** A session is stored, but the keychain is locked: unlock it and retry; the session is kept. */
  | 'keychain_locked'
  /** A session is stored, but the keychain refused access to it (e.g. "Deny" on macOS); the session is kept. */
  | 'keychain_refused'
  | 'invalid_argument';

/** Why an API call from the window failed (the renderer's `ApiError.code`). */
export type ApiErrorCode = 'api_unauthorized' | 'api_unreachable';

/** Every code a user or a caller can see. */
export type ErrorCode =
  | AuthErrorCode
  | ApiErrorCode
  /** An IPC call from a frame that is not the app's own page. */
  | 'sender_refused'
  /** A bug: anything that is not one of the errors above. */
  | 'internal_error';

/** How an error crosses IPC and is shown: a stable code to switch on and a sentence for the user. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

const ERROR_CODES: Record<ErrorCode, true> = {
  config_invalid: true,
  login_cancelled: true,
  login_timeout: true,
  login_denied: true,
  browser_unavailable: true,
  port_in_use: true,
  state_mismatch: true,
  id_token_invalid: true,
  provider_unreachable: true,
  provider_error: true,
  signed_out: true,
  session_ended: true,
  keychain_unavailable: true,
  keychain_locked: true,
  keychain_refused: true,
  invalid_argument: true,
  api_unauthorized: true,
  api_unreachable: true,
  sender_refused: true,
  internal_error: true,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
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
