import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;

/**
 * Node's own modules as `process.getBuiltinModule()` (Node ≥ 22.3) instead of `import … from 'node:…'`. An ES
 * import of a built-in module makes every one of its exports, so it also loads what its lazy ones stand for:
 * `node:fs` loads fs/promises, readline and the REPL's history, `node:util` the stream and diff code, `node:crypto`
 * WebCrypto — some thirty internal modules compiled for nothing on every start. The module object is what
 * `require()` gives, whose lazy parts load only when used.
 */
const builtinsWithoutEagerExports = (): Plugin => ({
  name: 'latchkey-builtins-without-eager-exports',
  renderChunk(code) {
    const rewritten = code.replace(/^import (?:\* as (\w+)|\{([^}]*)\}) from "(node:[\w/]+)";$/gm, (_line, namespace: string | undefined, names: string | undefined, module: string) => {
      const bindings = namespace ?? `{ ${names!.split(',').map((name) => name.trim().replace(/\s+as\s+/, ': ')).filter(Boolean).join(', ')} }`;
      return `const ${bindings} = process.getBuiltinModule(${JSON.stringify(module)});`;
    });
    return rewritten === code ? null : { code: rewritten, map: null };
  },
});

/**
 * The `latchkey` command as one bundled ES module (`out/cli/main.js`), so it
 * starts without TypeScript stripping. Dependencies stay external, loaded from
 * node_modules (keytar is native). main.js answers `--help` and usage errors with
 * only the start chunk beside it; the core loads once a command runs
 * (command-runner.ts), and the protocol and HTTP libraries sit behind dynamic
 * imports in their own chunks, loaded only when a command needs the network.
 */
export default defineConfig({
  plugins: [builtinsWithoutEagerExports()],
  build: {
    ssr: resolve(root, 'src/cli/main.ts'),
    outDir: resolve(root, 'out/cli'),
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    rollupOptions: {
      // The core's modules do nothing when imported, so index.ts re-exporting the protocol
      // and HTTP modules does not pull them (and openid-client, undici) into start-up.
      treeshake: { moduleSideEffects: (id: string, external: boolean) => external || !/\/src\/(core|shared)\//.test(id) },
      output: {
        format: 'es',
        entryFileNames: 'main.js',
        chunkFileNames: 'chunks/[name].js',
        // Only these wait behind a dynamic import; what they share with the start-up path stays out of their chunks.
        codeSplitting: {
          includeDependenciesRecursively: false,
          groups: [
            {
              name: 'protocol',
              test: /src\/core\/(protocol|loopback)\//,
              priority: 3,
            },
            { name: 'http', test: /src\/core\/net\//, priority: 3 },
            // The doctor (with the core's doctor face), what `login` opens a browser or shows a code with, and the agent command.
            { name: 'commands', test: /src\/(cli\/(doctor|login|agent)\/|core\/doctor\.ts$)/, priority: 3 },
            // What only a sign-in, a refresh or a sign-out runs (session/start.ts imports them when one happens), and the
            // agent's server (only `latchkey agent` runs it): a command answering from a stored session never loads them.
            { name: 'session-changes', test: /src\/core\/(session\/(sign-in|sign-in-attempts|sign-out|refresh)|dpop\/binding)\.ts$/, priority: 3 },
            { name: 'agent-server', test: /src\/core\/agent\/(server|peer)\.ts$/, priority: 3 },
            // What `--help` and a usage error need besides main.js itself; everything else waits behind an import().
            { name: 'start', test: /src\/(cli\/(exit-codes|compile-cache)|shared\/(errors|inert-text))\.ts$/, priority: 2 },
            { name: 'core', test: /\/src\/(?!cli\/main\.ts$)/, priority: 1 },
          ],
        },
      },
    },
  },
});
