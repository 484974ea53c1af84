// What the build fixed (electron.vite.config.ts `define`). Unbuilt — the shell
// imported by tests — it is not defined: no build settings.
declare const __LATCHKEY_BUILD_SETTINGS__: unknown;

/** The build's latchkey.config.json as parsed at build time, or undefined when there was none. */
export const BUILD_SETTINGS: unknown = typeof __LATCHKEY_BUILD_SETTINGS__ === 'undefined' ? undefined : (__LATCHKEY_BUILD_SETTINGS__ ?? undefined);
