import { createSystemOpener } from '../main/auth/opener.ts';
import type { Opener } from '../main/auth/provider-client.ts';
import type { CliIo } from './main.ts';

/** The CLI's browser: `$BROWSER`, else the platform's default; on a terminal it also shows the URL in case no browser opens. */
export function createCliOpener(io: CliIo): Opener {
  const open = createSystemOpener({ env: io.env });
  return async (url) => {
    if (process.stderr.isTTY) io.stderr(`Opening your browser to sign in. If it does not open, visit: ${url}`);
    await open(url);
  };
}
