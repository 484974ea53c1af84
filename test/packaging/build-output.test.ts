// `npm run build` (electron-vite) produces what the shell and electron-builder
// expect: an ES-module main, a CommonJS preload a sandbox can load, and a
// renderer whose index.html loads its assets by relative paths.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'electron-vite';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'out');

describe('npm run build output', () => {
  beforeAll(async () => {
    await build({ root: ROOT, configFile: join(ROOT, 'electron.vite.config.ts'), logLevel: 'warn' });
  });

  it('main is an ES module that leaves native and Node packages to node_modules', () => {
    const main = readFileSync(join(OUT, 'main', 'index.js'), 'utf8');
    expect(main).toMatch(/^import .* from "electron";$/m);
    // keytar's .node binary must be loaded from node_modules (asarUnpack), never bundled.
    expect(main).toContain('import("keytar")');
    for (const external of ['oidc-provider', 'openid-client', 'undici', 'electron-store']) expect(main).toContain(`from "${external}"`);
    expect(main).not.toMatch(/\brequire\(/);
  });

  it('the preload is CommonJS at out/preload/index.cjs, requiring only electron', () => {
    const preload = readFileSync(join(OUT, 'preload', 'index.cjs'), 'utf8');
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1])).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld("auth"');
    expect(preload).toContain('exposeInMainWorld("app"');
    expect(preload).not.toContain('exposeInMainWorld("ipcRenderer"');
  });

  it('the renderer loads its assets by relative paths, with no inline script or style', () => {
    const html = readFileSync(join(OUT, 'renderer', 'index.html'), 'utf8');
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toMatch(/^\.\/assets\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle="/);
    const assets = readdirSync(join(OUT, 'renderer', 'assets'));
    expect(assets.some((name) => name.endsWith('.js'))).toBe(true);
    expect(assets.some((name) => name.endsWith('.css'))).toBe(true);
  });
});
