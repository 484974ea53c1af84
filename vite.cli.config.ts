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
      const pairs = (names ?? '').split(',').map((name) => name.trim()).filter(Boolean).map((name) => name.split(/\s+as\s+/) as [string] | [string, string]);
      if (!namespace && LOADED_WHEN_CALLED.has(module) && pairs.every(([name]) => isPlainFunction(module, name))) {
        // Not loaded with the chunk: each function loads the module on its first call (getBuiltinModule caches it).
        return pairs.map(([name, local = name]) => `function ${local}(...args) { return process.getBuiltinModule(${JSON.stringify(module)}).${name}(...args); }`).join('\n');
      }
      const bindings = namespace ?? `{ ${pairs.map(([name, local]) => (local ? `${name}: ${local}` : name)).join(', ')} }`;
      return `const ${bindings} = process.getBuiltinModule(${JSON.stringify(module)});`;
    });
    return rewritten === code ? null : { code: rewritten, map: null };
  },
});

/**
 * Built-in modules a command loads only when it calls into them: `node:crypto` (some twenty internal modules) for a
 * sign-in, a refresh or a proof, `node:fs/promises` (with readline and the REPL's history behind it) for a write, and
 * the rest for what `token` with a fresh shared token never does. Only where every name imported is a plain function
 * (not a class, whose `instanceof` or `extends` a wrapper would break).
 */
const LOADED_WHEN_CALLED = new Set(['node:crypto', 'node:fs/promises', 'node:child_process', 'node:tty', 'node:http', 'node:https', 'node:dns', 'node:zlib', 'node:readline']);

function isPlainFunction(module: string, name: string): boolean {
  const value = (process.getBuiltinModule(module) as Record<string, unknown>)[name];
  return typeof value === 'function' && /^[a-z]/.test(name) && !/^class\b/.test(Function.prototype.toString.call(value));
}

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
        // ASCII, without comments: V8 keeps each module's source as a string, and one character past Latin-1 (a "—"
        // in a comment) makes it a two-byte string — twice the bytes to read, decode and hold on every start. A
        // `latchkey token` ran 1.6–5.6 ms faster so in three paired runs (docs/benchmarks.md). Strings keep their text.
        comments: false,
        charset: 'ascii',
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
            { name: 'start', test: /src\/(cli\/(exit-codes|compile-cache|script-cache)|shared\/(errors|inert-text))\.ts$/, priority: 2 },
            { name: 'core', test: /\/src\/(?!cli\/main\.ts$)/, priority: 1 },
          ],
        },
      },
    },
  },
});
