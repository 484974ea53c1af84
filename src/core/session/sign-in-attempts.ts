import { AuthError } from '../errors.ts';

/** One interactive sign-in in progress: the newest one wins, older ones end as `sign_in_cancelled`. */
export interface SignInAttempt {
  readonly signal: AbortSignal;
  /** `work`, unless the attempt is cancelled first. */
  race<T>(work: Promise<T>): Promise<T>;
  isCurrent(): boolean;
}

export interface SignInAttempts {
  readonly current: SignInAttempt | undefined;
  /** Starts a new attempt, cancelling the pending one. */
  start(): SignInAttempt;
  /** Cancels the pending attempt, if any, with `message`. */
  cancel(message: string): void;
  /** The attempt is over (signed in or failed): no attempt is pending any more. */
  finish(attempt: SignInAttempt): void;
}

export function createSignInAttempts(): SignInAttempts {
  let current: (SignInAttempt & { cancelled(reason: AuthError): void }) | undefined;

  const cancel = (message: string) => current?.cancelled(new AuthError('sign_in_cancelled', message));

  return {
    get current() {
      return current;
    },
    start() {
      cancel('A new sign-in was started; this one was cancelled.');
      const controller = new AbortController();
      let cancelled!: (reason: AuthError) => void;
      const cancellation = new Promise<never>((_, reject) => {
        cancelled = (reason) => {
          controller.abort(reason);
          reject(reason);
        };
      });
      cancellation.catch(() => {});
      const attempt = {
        signal: controller.signal,
        race: <T>(work: Promise<T>) => Promise.race([work, cancellation]),
        isCurrent: () => current === attempt,
        cancelled,
      };
      current = attempt;
      return attempt;
    },
    cancel,
    finish(attempt) {
      if (current === attempt) current = undefined;
    },
  };
}
