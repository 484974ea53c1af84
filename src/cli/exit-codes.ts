// The error vocabulary straight from src/shared, not through the core: `--help` and a usage error answer without loading the core.
import { toErrorInfo, type ErrorCode } from '../shared/errors.ts';

/** The CLI's exit codes — a contract for scripts (issue 3 §6). */
export const EXIT = {
  ok: 0,
  /** Signed out or the session ended: run `latchkey login`. */
  signInNeeded: 1,
  /** A usage or configuration error: fix the command line or the settings. Also: no keychain, or it is locked (the session is kept). */
  usage: 2,
  /** The provider is unreachable or unusable (network, timeout, 5xx, not JSON, proxy sign-in, untrusted certificate); the refresh token is kept. */
  providerUnavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<ErrorCode, ExitCode> = {
  signed_out: EXIT.signInNeeded,
  session_ended: EXIT.signInNeeded,
  sign_in_cancelled: EXIT.signInNeeded,
  sign_in_timeout: EXIT.signInNeeded,
  sign_in_denied: EXIT.signInNeeded,
  state_mismatch: EXIT.signInNeeded,
  account_unknown: EXIT.signInNeeded,
  account_mismatch: EXIT.signInNeeded,
  config_invalid: EXIT.usage,
  invalid_argument: EXIT.usage,
  port_in_use: EXIT.usage,
  keychain_unavailable: EXIT.usage,
  keychain_locked: EXIT.usage,
  keychain_refused: EXIT.usage,
  browser_unavailable: EXIT.usage,
  sender_refused: EXIT.usage,
  provider_unreachable: EXIT.providerUnavailable,
  provider_error: EXIT.providerUnavailable,
  proxy_auth_required: EXIT.providerUnavailable,
  certificate_untrusted: EXIT.providerUnavailable,
  id_token_invalid: EXIT.providerUnavailable,
  api_unreachable: EXIT.providerUnavailable,
  api_unauthorized: EXIT.signInNeeded,
  internal_error: EXIT.signInNeeded,
};

/** The exit code for a failure. An unexpected error (a bug) gets 1: whether a session is usable is then unknown. */
export function exitCodeFor(error: unknown): ExitCode {
  return BY_CODE[toErrorInfo(error).code];
}
