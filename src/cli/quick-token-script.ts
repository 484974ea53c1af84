// The quick paths of `latchkey token` and `latchkey headers` (quick-token.ts) with the configuration they need, as
// one script: the build bundles it alone into out/cli/quick-token.cjs (vite.cli-script.config.ts), which main.ts runs
// through script-cache.ts from a V8 code cache written after a run; unbundled (`npm run cli`), main.ts imports this
// module instead.
import { loadConfig } from '../core/index.ts';
import { DPOP_BOUND_HINT, headerLines, quickHeaders, quickToken } from './quick-token.ts';

/** What a quick command prints: its standard output, and a line for standard error. */
export interface QuickOutput {
  stdout: string;
  stderr?: string;
}

/**
 * What `token` or `headers` prints without a session; undefined when the session decides (a configuration error
 * included: the command reports it).
 */
export async function run(command: 'token' | 'headers', values: Record<string, string | boolean | undefined>, positionals: string[], env: NodeJS.ProcessEnv): Promise<QuickOutput | undefined> {
  let config;
  try {
    config = loadConfig({ env });
  } catch {
    return undefined;
  }
  if (command === 'headers') {
    const headers = await quickHeaders(config, values, positionals, env);
    return headers && { stdout: headerLines(headers) };
  }
  const fresh = await quickToken(config, values, env);
  if (!fresh) return undefined;
  const stdout = `${fresh.access.value}\n`;
  return fresh.access.tokenType === 'dpop' ? { stdout, stderr: DPOP_BOUND_HINT } : { stdout };
}
