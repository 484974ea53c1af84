// electron-builder.yml checked by electron-builder's own configuration
// validation (its JSON schema), plus the fields that carry security weight.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
// electron-builder's own pieces: the validator and the YAML parser it reads its config with.
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as typeof import('app-builder-lib/out/util/config/config.js');
const { DebugLogger } = require('builder-util') as typeof import('builder-util');
const yaml = require('js-yaml') as { load(text: string): unknown };

type Config = Record<string, unknown> & {
  appId: string;
  productName: string;
  files: string[];
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  deb: { depends: string[] };
  mac: { target: string[]; hardenedRuntime: boolean; entitlements: string; entitlementsInherit: string };
  win: { target: string[] };
};

const config = yaml.load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Config;
const validate = (candidate: object) => validateConfiguration(candidate as never, new DebugLogger(false));

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own configuration validation', async () => {
    await expect(validate(config)).resolves.toBeUndefined();
  });

  it('is really validated: a misspelled option is rejected', async () => {
    await expect(validate({ ...config, electronFuses: { ...config.electronFuses, runAsNodee: false } })).rejects.toThrow(/runAsNodee|electronFuses/);
    await expect(validate({ ...config, asarUnpak: [] })).rejects.toThrow(/asarUnpak/);
  });

  it('names the app as the keychain service and userData folder expect', () => {
    expect(config.appId).toBe('dev.latchkey.desktop');
    expect(config.productName).toBe('Latchkey');
  });

  it('ships the build output only, with keytar’s native module outside the asar', () => {
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'package.json', '!src/**', '!test/**']));
    expect(config.asarUnpack).toContain('**/node_modules/keytar/**');
    expect(config.asar).toBe(true);
  });

  it('hardens the Electron fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('builds AppImage + deb (with libsecret), a hardened-runtime dmg and nsis', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.deb.depends).toContain('libsecret-1-0');
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    for (const plist of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      expect(existsSync(join(ROOT, plist))).toBe(true);
      // JIT for V8 and nothing that weakens the hardened runtime further.
      const text = readFileSync(join(ROOT, plist), 'utf8');
      expect(text).toContain('com.apple.security.cs.allow-jit');
      expect(text).not.toMatch(/disable-library-validation|allow-dyld-environment-variables|disable-executable-page-protection/);
    }
    expect(config.win.target).toEqual(['nsis']);
  });

  it('has an app icon electron-builder can convert for every platform (≥ 512 px PNG in build/)', () => {
    const png = readFileSync(join(ROOT, 'build', 'icon.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(Math.min(png.readUInt32BE(16), png.readUInt32BE(20))).toBeGreaterThanOrEqual(512);
  });

  it('points the packaged app at the built main entry', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('out/main/index.js');
    expect(config.files.some((pattern) => pattern === 'out/**')).toBe(true);
  });
});
