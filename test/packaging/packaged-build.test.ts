// `npm run dist` for real, as far as this machine allows: the project staged
// in a temp folder (node_modules hard-linked), `electron-vite build --mode
// packaged` through electron.vite.config.ts, then electron-builder's own
// packager (`--dir`, Linux) with electron-builder.yml. The Electron binary
// cannot be downloaded here, so electronDist is a stand-in file carrying
// Electron's fuse wire: electron-builder copies it, flips its fuses and writes
// app.asar exactly as it would around the real one. What is asserted is the
// packed app.asar's file list and content, and the fuses electron-builder set.
import { cp, link, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build as buildApp } from 'electron-vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const builderRequire = createRequire(require.resolve('app-builder-lib/package.json'));
const { build: buildPackage } = require('electron-builder') as typeof import('electron-builder');
const asar = builderRequire('@electron/asar') as { listPackage(path: string, options?: object): string[]; extractFile(archive: string, file: string): Buffer };
const fuses = builderRequire('@electron/fuses') as { getCurrentFuseWire(path: string): Promise<Record<number, number>> };

const STAGED = ['package.json', 'package-lock.json', 'electron-builder.yml', 'electron.vite.config.ts', 'tsconfig.json', 'src', 'build'];
const BUILD_SETTINGS = { auth0Domain: 'packaging-test.eu.auth0.com', clientId: 'packaging-test-client', audience: 'https://api.packaging.example', apiBaseUrl: 'https://api.packaging.example' };
// Electron's fuse sentinel, wire version 1, eight fuses at Electron 45's defaults.
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ENABLE = 0x31;
const DISABLE = 0x30;

let workDir: string;
let project: string;
let appAsar: string;
let files: string[];

/** node_modules as hard links (a symlinked node_modules hides the production dependencies from electron-builder's collector). */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory()) await linkTree(source, target);
    else if (entry.isSymbolicLink()) await cp(source, target, { verbatimSymlinks: true });
    else await link(source, target).catch(() => cp(source, target));
  }
}

async function buildPackaged(projectDir: string): Promise<void> {
  await buildApp({ root: projectDir, configFile: join(projectDir, 'electron.vite.config.ts'), mode: 'packaged', logLevel: 'warn' });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-dist-'));
  project = join(workDir, 'project');
  await mkdir(project);
  await Promise.all(STAGED.map((name) => cp(join(ROOT, name), join(project, name), { recursive: true })));
  await linkTree(join(ROOT, 'node_modules'), join(project, 'node_modules'));
  await writeFile(join(project, 'latchkey.config.json'), JSON.stringify(BUILD_SETTINGS));
  await buildPackaged(project);

  const electronDist = join(workDir, 'electron-dist');
  await mkdir(electronDist);
  const wire = Buffer.from([1, 8, ENABLE, DISABLE, ENABLE, ENABLE, DISABLE, DISABLE, DISABLE, ENABLE]);
  await writeFile(join(electronDist, 'electron'), Buffer.concat([Buffer.from('electron stand-in\0'), Buffer.from(FUSE_SENTINEL), wire]), { mode: 0o755 });
  const { version: electronVersion } = JSON.parse(await readFile(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string };
  await buildPackage({
    projectDir: project,
    dir: true,
    linux: ['dir'],
    publish: 'never',
    // Only what this machine cannot do is changed: no Electron download, no native rebuild against Electron's headers.
    config: { electronDist, electronVersion, npmRebuild: false, directories: { output: join(workDir, 'dist') } },
  });
  appAsar = join(workDir, 'dist', 'linux-unpacked', 'resources', 'app.asar');
  files = asar.listPackage(appAsar).map((file) => file.replaceAll('\\', '/'));
}, 300_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function packages(): Set<string> {
  return new Set(files.filter((file) => file.startsWith('/node_modules/')).map((file) => {
    const [, , scope, name] = file.split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope as string);
  }));
}

describe('the packaged app (npm run dist, electron-builder --dir with a stand-in Electron binary)', () => {
  it('npm run dist builds in packaged mode', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts.dist).toBe('electron-vite build --mode packaged && electron-builder');
    expect(Object.keys(pkg.dependencies)).not.toContain('oidc-provider');
    expect(pkg.devDependencies['oidc-provider']).toBeDefined();
  });

  it('ships the built app and its production dependencies, and no demo code or oidc-provider', () => {
    const own = files.filter((file) => !file.startsWith('/node_modules') && /\.(js|cjs|html|css|json)$/.test(file));
    expect(own.map((file) => file.replace(/index-[\w-]+\.(js|css)$/, 'index-[hash].$1')).sort()).toEqual([
      '/out/main/index.js',
      '/out/preload/index.cjs',
      '/out/renderer/assets/index-[hash].css',
      '/out/renderer/assets/index-[hash].js',
      '/out/renderer/index.html',
      '/package.json',
    ]);
    const shipped = packages();
    for (const needed of ['openid-client', 'undici', 'keytar', 'conf', 'electron-store', 'electron-log']) expect(shipped).toContain(needed);
    for (const demoOnly of ['oidc-provider', 'koa', '@koa/router']) expect(shipped).not.toContain(demoOnly);
    // The agent's FFI is the command line's: the app never loads it.
    expect([...shipped].filter((name) => name === 'koffi' || name.startsWith('@koromix/'))).toEqual([]);
    expect(files.some((file) => /demo/i.test(file))).toBe(false);

    const main = asar.extractFile(appAsar, 'out/main/index.js').toString('utf8');
    // Code, not prose: a comment may name oidc-provider, an import of it may not be there.
    expect(main).not.toMatch(/(?:from\s*|import\(\s*|require\(\s*)["']oidc-provider["']/);
    for (const demoMarker of ['wonderland', 'answeringDemoProof', 'loadOrCreateDemoSecret', 'startDemo', 'ensureDemoProvider', 'DEMO_USERS']) expect(main).not.toContain(demoMarker);
  });

  it('embeds latchkey.config.json in the main bundle', () => {
    const main = asar.extractFile(appAsar, 'out/main/index.js').toString('utf8');
    expect(main).toContain('"auth0Domain": "packaging-test.eu.auth0.com"');
    expect(main).toContain('"clientId": "packaging-test-client"');
    expect(main).not.toContain('__LATCHKEY_BUILD_SETTINGS__');
  });

  it('keeps keytar’s native module outside the asar', async () => {
    const unpacked = await readdir(join(workDir, 'dist', 'linux-unpacked', 'resources', 'app.asar.unpacked', 'node_modules'));
    expect(unpacked).toEqual(['keytar']);
  });

  it('has the Electron fuses flipped by electron-builder.yml', async () => {
    const wire = await fuses.getCurrentFuseWire(join(workDir, 'dist', 'linux-unpacked', 'latchkey'));
    expect(wire).toMatchObject({ 0: DISABLE, 1: ENABLE, 2: DISABLE, 3: DISABLE, 4: ENABLE, 5: ENABLE, 7: DISABLE });
  });

  it('fails the build, naming latchkey.config.json, when no provider is configured or a setting is wrong', async () => {
    await rm(join(project, 'latchkey.config.json'));
    await expect(buildPackaged(project)).rejects.toThrow(/A packaged build needs its provider in latchkey\.config\.json[\s\S]*no sign-in provider is configured for this build/);
    await writeFile(join(project, 'latchkey.config.json'), JSON.stringify({ ...BUILD_SETTINGS, client_secret: 'shipped-secret' }));
    await expect(buildPackaged(project)).rejects.toThrow(/"client_secret" in latchkey\.config\.json: .*public client/);
  });
});
