import type { ErrorInfo } from '../../shared/errors.ts';
import type { KeychainPlace } from '../../shared/auth-state.ts';
import { AuthError } from '../errors.ts';
import { KEYCHAIN_LOCKED_MESSAGE, KEYCHAIN_REFUSED_MESSAGE, type Keychain } from '../keychain/keychain.ts';

/**
 * Where one session's keychain entry lives now, and what to tell the user
 * about it: the OS keychain; memory only (no keychain, or it stopped accepting
 * writes); or the OS keychain while it is locked or refuses access — out of
 * reach, not gone. Owned by the entry (session-entry.ts).
 */
export class KeychainPlaceState {
  #place: KeychainPlace;
  #notice: ErrorInfo | undefined;

  constructor(keychain: Pick<Keychain, 'kind' | 'reason'>) {
    this.#place = keychain.kind;
    this.#notice =
      keychain.kind !== 'memory-only'
        ? undefined
        : { code: 'keychain_unavailable', message: keychain.reason ?? 'No OS keychain is available, so your session is kept in memory only and won’t survive a restart.' };
  }

  get place(): KeychainPlace {
    return this.#place;
  }

  /** Why the session is kept in memory only or is out of reach, for the user; undefined while the OS keychain holds it. */
  get notice(): ErrorInfo | undefined {
    return this.#notice;
  }

  /** The error to answer with while the stored session is locked away or access to it is refused. */
  outOfReachError(): AuthError | undefined {
    if (this.#place === 'locked') return new AuthError('keychain_locked', KEYCHAIN_LOCKED_MESSAGE);
    return this.#place === 'refused' ? new AuthError('keychain_refused', KEYCHAIN_REFUSED_MESSAGE) : undefined;
  }

  putOutOfReach(place: 'locked' | 'refused'): AuthError {
    this.#place = place;
    const error = this.outOfReachError() as AuthError;
    this.#notice = { code: error.code, message: error.message };
    return error;
  }

  bringBackInReach(): void {
    if (this.#place !== 'locked' && this.#place !== 'refused') return;
    this.#place = 'os';
    this.#notice = undefined;
  }

  /** The OS keychain stopped accepting the session: it is kept in memory only from now on. */
  fallBackToMemory(): void {
    this.#place = 'memory-only';
    this.#notice = { code: 'keychain_unavailable', message: 'The OS keychain stopped accepting the session, so it is kept in memory only and won’t survive a restart.' };
  }
}
