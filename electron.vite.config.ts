import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import type { Plugin, UserConfig as ViteUserConfig } from 'vite';
import { BUILD_CONFIG_FILE, embedCertificates, loadConfig, readBuildConfig } from './src/core/index.ts';

const root = import.meta.dirname;

/** `electron-vite build --mode packaged` (npm run dist) builds what ships; any other mode is for development. */
export const PACKAGED_MODE = 'packaged';

/**
 * The build-time definitions of src/main/build-info.ts: the provider settings
 * from latchkey.config.json, with the certificates of its `caFile` embedded
 * (read now, relative to the project folder: the app never resolves a path),
 * and whether the demo is left out. A packaged build checks the settings with
 * the app's own loadConfig and fails — rather than ship an app that would fall
 * back to the demo — when there is no provider or a setting is wrong.
 */
export function buildDefinitions(mode: string, projectDir = root): Record<string, string> {
  const packaged = mode === PACKAGED_MODE;
  const settings = embedCertificates(readBuildConfig(resolve(projectDir, BUILD_CONFIG_FILE)), projectDir);
  if (packaged) {
    try {
      loadConfig({ env: {}, dataDir: projectDir, build: settings, packaged: true });
    } catch (error) {
      throw new Error(`A packaged build needs its provider in ${BUILD_CONFIG_FILE} (see latchkey.config.example.json):\n${(error as Error).message}`, { cause: error });
    }
  }
  return { __LATCHKEY_BUILD_SETTINGS__: JSON.stringify(settings ?? null) };
}

/**
 * Packaged builds get src/main/dev-demo/no-demo.ts wherever
 * src/main/dev-demo/demo.ts is imported, so the demo provider, its pages and
 * oidc-provider never enter the bundle (a dead branch alone would still emit
 * their chunks).
 */
function leaveOutDemo(): Plugin {
  const demoShell = resolve(root, 'src/main/dev-demo/demo.ts');
  const noDemo = resolve(root, 'src/main/dev-demo/no-demo.ts');
  return {
    name: 'latchkey:leave-out-demo',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === demoShell ? noDemo : null;
    },
  };
}

/**
 * The renderer on its own, so tests can build exactly what ships with vite's
 * `build()` (electron-vite adds only its Chrome target and output defaults).
 * `base: './'` keeps every asset URL relative: the pages are served from
 * `app://latchkey/` in the app and from a plain http server in tests.
 */
export const rendererConfig = {
  root: resolve(root, 'src/renderer'),
  base: './',
  build: {
    outDir: resolve(root, 'out/renderer'),
    emptyOutDir: true,
    // No inline scripts or styles: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
} satisfies ViteUserConfig;

export default defineConfig(({ mode }) => ({
  main: {
    define: buildDefinitions(mode),
    plugins: mode === PACKAGED_MODE ? [leaveOutDemo()] : [],
    build: {
      outDir: resolve(root, 'out/main'),
      // keytar is native, openid-client/undici are large Node packages: they stay in
      // node_modules and are loaded at runtime (electron-builder packs them). The demo's
      // oidc-provider and jose are development dependencies, loaded only by development builds.
      externalizeDeps: { include: ['oidc-provider', 'jose'] },
      lib: { entry: resolve(root, 'src/main/index.ts'), formats: ['es'], fileName: () => 'index.js' },
      // One file: the core's lazy imports (sign-in, refresh, sign-out) pay off in the CLI's short-lived
      // processes, not in an app that runs for hours, and one file is what the packaging checks read.
      rolldownOptions: { output: { codeSplitting: false } },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload cannot be an ES module, so it is CommonJS whatever package.json says.
      lib: { entry: resolve(root, 'src/preload/index.ts'), formats: ['cjs'], fileName: () => 'index.cjs' },
    },
  },
  renderer: rendererConfig,
}));
