import { AuthError, type AuthErrorCode } from '../main/auth/errors.ts';

/** The CLI's exit codes — a contract for scripts (issue 3 §6). */
export const EXIT = {
  ok: 0,
  /** Signed out or the session ended: run `latchkey login`. */
  signInNeeded: 1,
  /** A usage or configuration error: fix the command line or the settings. */
  usage: 2,
  /** The provider is unreachable or unusable (network, timeout, 5xx, not JSON); the refresh token is kept. */
  providerUnavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<AuthErrorCode, ExitCode> = {
  signed_out: EXIT.signInNeeded,
  session_ended: EXIT.signInNeeded,
  login_cancelled: EXIT.signInNeeded,
  login_timeout: EXIT.signInNeeded,
  login_denied: EXIT.signInNeeded,
  state_mismatch: EXIT.signInNeeded,
  config_invalid: EXIT.usage,
  invalid_argument: EXIT.usage,
  port_in_use: EXIT.usage,
  keychain_unavailable: EXIT.usage,
  provider_unreachable: EXIT.providerUnavailable,
  provider_error: EXIT.providerUnavailable,
  id_token_invalid: EXIT.providerUnavailable,
};

/** The exit code for a failure. An unexpected error (a bug) gets 1: whether a session is usable is then unknown. */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof AuthError ? BY_CODE[error.code] : EXIT.signInNeeded;
}
