import { resolve } from 'node:path';
import { defineConfig, mergeConfig } from 'vite';
import cli from './vite.cli.config.ts';

const root = import.meta.dirname;

/**
 * `latchkey token`'s quick path (src/cli/quick-token-script.ts) as one CommonJS script beside the CLI bundle,
 * `out/cli/quick-token.cjs`, built after it (`npm run build`): main.js runs it with a V8 code cache written after a
 * run (src/cli/script-cache.ts), which an ES module cannot have. Its only `require`s are Node's own modules.
 */
export default mergeConfig(
  cli,
  defineConfig({
    build: {
      ssr: resolve(root, 'src/cli/quick-token-script.ts'),
      emptyOutDir: false,
      rollupOptions: { output: { format: 'cjs', entryFileNames: 'quick-token.cjs', codeSplitting: false } },
    },
  }),
);
