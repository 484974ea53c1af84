import type { ExitCode } from '../exit-codes.ts';

export type Outcome = 'pass' | 'warn' | 'fail';

/** One line of `doctor`'s report: what was checked, the outcome, and the fix when it is not a pass. */
export interface Check {
  name: string;
  outcome: Outcome;
  detail: string;
  fix?: string;
  /** The exit code a failure of this check leads to. */
  failsWith?: ExitCode;
}
