// `latchkey token`'s quick path (quick-token.ts) with the configuration it needs, as one script: the build bundles it
// alone into out/cli/quick-token.cjs (vite.cli-script.config.ts), which main.ts runs through script-cache.ts from a
// V8 code cache written after a run; unbundled (`npm run cli`), main.ts imports this module instead.
import { loadConfig } from '../core/index.ts';
import { DPOP_BOUND_HINT, quickToken } from './quick-token.ts';

/** What `token` prints without a session: the token, and the hint a bound one needs; undefined when the session decides (a configuration error included: the command reports it). */
export async function run(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): Promise<{ token: string; hint?: string } | undefined> {
  let config;
  try {
    config = loadConfig({ env });
  } catch {
    return undefined;
  }
  const fresh = await quickToken(config, values, env);
  if (!fresh) return undefined;
  return fresh.dpop ? { token: fresh.token, hint: DPOP_BOUND_HINT } : { token: fresh.token };
}
