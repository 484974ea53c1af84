import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import type { UserConfig as ViteUserConfig } from 'vite';

const root = import.meta.dirname;

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

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      // keytar is native, oidc-provider/openid-client/undici are large Node packages:
      // they stay in node_modules and are loaded at runtime (electron-builder packs them).
      externalizeDeps: true,
      lib: { entry: resolve(root, 'src/main/index.ts'), formats: ['es'], fileName: () => 'index.js' },
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
});
