import { createSystemOpener } from './system-opener.ts';
import type { Opener } from '../../core/index.ts';
import type { CliIo } from '../context.ts';

/**
 * The CLI's browser: `$BROWSER`, else the platform's default. When no browser
 * can be started (an SSH session, a server), the URL is shown instead and the
 * sign-in keeps waiting, so it can be finished from any browser on this machine —
 * unless `failWhenUnavailable()` says a better way exists (sign-in with a code):
 * then the failure ends the browser sign-in (`browser_unavailable`).
 */
export function createCliOpener(io: CliIo, failWhenUnavailable: () => boolean = () => false): Opener {
  const open = createSystemOpener({ env: io.env });
  return async (url) => {
    if (process.stderr.isTTY) io.stderr(`Opening your browser to sign in. If it does not open, visit: ${url}`);
    try {
      await open(url);
    } catch (error) {
      if (failWhenUnavailable()) throw error;
      io.stderr(`${(error as Error).message}`);
      if (!process.stderr.isTTY) io.stderr(`To sign in, open this page in a browser on this computer: ${url}`);
    }
  };
}
