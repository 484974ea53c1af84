import type { Logger } from '../../shared/logger.ts';
import type { Timers } from '../timers.ts';

const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;

/** The backoff before retry number `attempt` (0-based) after the provider could not be reached: 1 s doubling to 5 min, with jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/** The one pending retry of an offline session, with its growing backoff. */
export interface RetrySchedule {
  /** True while a retry is scheduled: callers fail fast instead of defeating the backoff. */
  readonly pending: boolean;
  /**
   * Schedules `retry` after the next backoff step, replacing any scheduled one;
   * never sooner than `minDelayMs` (a provider's `Retry-After`, RFC 9110 §10.2.3).
   */
  schedule(retry: () => void, minDelayMs?: number): void;
  cancel(): void;
  /** Back to the first step, after a success. */
  reset(): void;
}

export function createRetrySchedule(deps: { timers: Timers; random: () => number; logger: Logger }): RetrySchedule {
  let timer: unknown;
  let attempt = 0;
  const cancel = () => {
    if (timer !== undefined) deps.timers.clearTimeout(timer);
    timer = undefined;
  };
  return {
    get pending() {
      return timer !== undefined;
    },
    schedule(retry, minDelayMs = 0) {
      cancel();
      const wait = Math.max(retryDelayMs(attempt++, deps.random), minDelayMs);
      deps.logger.info('provider unreachable; retrying later', { inMs: wait });
      timer = deps.timers.setTimeout(() => {
        timer = undefined;
        retry();
      }, wait);
    },
    cancel,
    reset() {
      attempt = 0;
    },
  };
}
