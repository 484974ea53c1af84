// The physical floor of `latchkey token` (bench/cli.ts `cli.bare_read`): a Node process that turns on the same compile
// cache, reads one keychain entry over the Secret Service with the CLI's own D-Bus code (src/core/keychain), writes its
// length and exits — no configuration, account, session or token checks. Bundled by the bench as the CLI is.
// Usage: node bare-read.js SERVICE ACCOUNT
import { startCompileCache } from '../src/cli/compile-cache.ts';
import { createSecretServiceProbe } from '../src/core/index.ts';

startCompileCache(process.env);
const [service = '', account = ''] = process.argv.slice(2);
const found = await createSecretServiceProbe().read?.(service, account);
process.getBuiltinModule('node:fs').writeSync(1, found?.state === 'unlocked' ? `${found.secret.length}\n` : 'none\n');
process.exit(found?.state === 'unlocked' ? 0 : 1);
