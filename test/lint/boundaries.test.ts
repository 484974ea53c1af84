// The layout's boundaries are enforced by `npm run lint` (eslint.config.js).
// Each crossing is linted as a file at the place it would live, and must fail;
// the repository itself must pass.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function problems(eslint: ESLint, filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

describe('npm run lint enforces the layout', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  const crossings: [string, string, string, RegExp][] = [
    ['electron in the core', 'src/core/probe.ts', "import { app } from 'electron';\nexport const x = app;\n", /Only the Electron shell/],
    ['electron in the CLI', 'src/cli/probe.ts', "import { app } from 'electron';\nexport const x = app;\n", /Only the Electron shell/],
    ['electron in the page', 'src/renderer/probe.ts', "import { app } from 'electron';\nexport const x = app;\n", /Only the Electron shell/],
    ['the CLI past the core index', 'src/cli/probe.ts', "import { createAuthSession } from '../core/session.ts';\nexport const x = createAuthSession;\n", /through src\/core\/index\.ts/],
    ['the shell past the core index', 'src/main/probe.ts', "import { keychainAccount } from '../core/session-entry.ts';\nexport const x = keychainAccount;\n", /through src\/core\/index\.ts/],
    ['the bench past the core index', 'bench/probe.ts', "import { openKeychain } from '../src/core/secret-store.ts';\nexport const x = openKeychain;\n", /through src\/core\/index\.ts/],
    ['a test of another part past the core index', 'test/cli/probe.test.ts', "import { loadConfig } from '../../src/core/config/auth-config.ts';\nexport const x = loadConfig;\n", /through src\/core\/index\.ts/],
    ['the core importing the shell', 'src/core/probe.ts', "import { registerIpcHandlers } from '../main/ipc-handlers.ts';\nexport const x = registerIpcHandlers;\n", /never the other way round/],
    ['the core importing the CLI', 'src/core/probe.ts', "import { EXIT } from '../cli/exit-codes.ts';\nexport const x = EXIT;\n", /nothing imports it/],
    ['the core importing the demo', 'src/core/probe.ts', "import { startDemo } from '../demo/index.ts';\nexport const x = startDemo;\n", /separate program/],
    ['the demo importing the core', 'src/demo/probe.ts', "import { createLogger } from '../core/index.ts';\nexport const x = createLogger;\n", /independent of the auth core/],
    ['the page importing the core', 'src/renderer/probe.ts', "import { fingerprint } from '../core/index.ts';\nexport const x = fingerprint;\n", /independent of the auth core/],
    ['a dynamic import() past the core index', 'src/cli/probe.ts', "export const x = async () => (await import('../core/session.ts')).createAuthSession;\n", /through src\/core\/index\.ts/],
    ['an import type past the core index', 'src/main/probe.ts', "export type X = typeof import('../core/session-entry.ts');\n", /through src\/core\/index\.ts/],
    ['a dynamic import() of the core from the demo', 'src/demo/probe.ts', "export const x = async () => (await import('../core/index.ts')).createLogger;\n", /independent of the auth core/],
    ['the CLI past the door into the doctor face', 'src/cli/probe.ts', "import { localFacts } from '../core/doctor.ts';\nexport const x = localFacts;\n", /through src\/core\/index\.ts only/],
    ['the shell using the doctor face', 'src/main/probe.ts', "export const x = async () => (await import('../core/doctor.ts')).localFacts;\n", /through src\/core\/index\.ts only/],
    ['the CLI doctor past its face', 'src/cli/doctor/probe.ts', "import { createHttpClient } from '../../core/net/http.ts';\nexport const x = createHttpClient;\n", /through src\/core\/index\.ts only \(the CLI's doctor also through src\/core\/doctor\.ts\)/],
    // Between the core's folders: what each README.md's "May import" line leaves out.
    ['keychain/ importing session/', 'src/core/keychain/probe.ts', "import { SessionState } from '../session/state.ts';\nexport const x = SessionState;\n", /keychain\/ may not import session\/: src\/core\/keychain\/README\.md/],
    ['presets/ importing protocol/', 'src/core/presets/probe.ts', "import { profileFrom } from '../protocol/profile.ts';\nexport const x = profileFrom;\n", /presets\/ may not import protocol\//],
    ['net/ importing entry/ with import()', 'src/core/net/probe.ts', "export const x = async () => (await import('../entry/entry.ts')).keychainAccount;\n", /net\/ may not import entry\//],
    ['config/ importing net/ for a type only', 'src/core/config/probe.ts', "import type { HttpClient } from '../net/http.ts';\nexport type X = HttpClient;\n", /config\/ may not import net\//],
    ['loopback/ importing protocol/ in an import type', 'src/core/loopback/probe.ts', "export type X = typeof import('../protocol/provider-client.ts');\n", /loopback\/ may not import protocol\//],
    ['a root file of the core importing a folder', 'src/core/probe.ts', "import { PRESETS } from './presets/presets.ts';\nexport const x = PRESETS;\n", /root files .* import only src\/shared/],
    ['a core file importing the door', 'src/core/session/probe.ts', "import { loadConfig } from '../index.ts';\nexport const x = loadConfig;\n", /never the doors/],
    ['a core file importing the doctor face', 'src/core/protocol/probe.ts', "export const x = async () => (await import('../doctor.ts'));\n", /never the doors/],
    // One name, one import path: only the doors re-export.
    ['a re-export in a core file', 'src/core/config/probe.ts', "export { PRESETS } from '../presets/presets.ts';\n", /no-re-export: Re-export of PRESETS/],
    ['export * in a core file', 'src/core/protocol/probe.ts', "export * from './profile.ts';\n", /no-re-export: Re-export of \* from/],
    ['an imported name exported again', 'src/cli/probe.ts', "import { EXIT } from './exit-codes.ts';\nexport { EXIT };\n", /no-re-export: Re-export of EXIT/],
    ['an imported type exported again', 'src/main/probe.ts', "import type { AuthState } from '../shared/auth-state.ts';\nexport type { AuthState as State };\n", /no-re-export: Re-export of AuthState/],
  ];

  for (const [what, filePath, code, expected] of crossings) {
    it(`fails on ${what}`, async () => {
      expect((await problems(eslint, filePath, code)).join('\n')).toMatch(expected);
    });
  }

  it('lets the core test its own files and everything else use the index', async () => {
    expect(await problems(eslint, 'test/core/probe.test.ts', "import { loadConfig } from '../../src/core/config/auth-config.ts';\nexport const x = loadConfig;\n")).toEqual([]);
    expect(await problems(eslint, 'src/cli/probe.ts', "import { loadConfig } from '../core/index.ts';\nexport const x = loadConfig;\n")).toEqual([]);
    expect(await problems(eslint, 'src/cli/probe.ts', "export const x = async () => (await import('../core/index.ts')).loadConfig;\n")).toEqual([]);
    expect(await problems(eslint, 'test/core/probe.test.ts', "export const x = async () => (await import('../../src/core/config/auth-config.ts')).loadConfig;\n")).toEqual([]);
    expect(await problems(eslint, 'src/cli/doctor/probe.ts', "import { localFacts } from '../../core/doctor.ts';\nimport { loadConfig } from '../../core/index.ts';\nexport const x = [localFacts, loadConfig];\n")).toEqual([]);
  });

  it('lets a folder import what its README lists, and only the doors re-export', async () => {
    expect(await problems(eslint, 'src/core/session/probe.ts', "import { connectProvider } from '../protocol/provider-client.ts';\nexport const x = connectProvider;\n")).toEqual([]);
    expect(await problems(eslint, 'src/core/config/probe.ts', "import type { PresetName } from '../presets/preset.ts';\nexport type X = PresetName;\n")).toEqual([]);
    expect(await problems(eslint, 'src/core/presets/probe.ts', "import { AuthError } from '../errors.ts';\nimport type { Logger } from '../../shared/logger.ts';\nexport const x = AuthError;\nexport type L = Logger;\n")).toEqual([]);
    expect(await problems(eslint, 'src/core/index.ts', "export { connectProvider } from './protocol/provider-client.ts';\n")).toEqual([]);
    expect(await problems(eslint, 'src/demo/index.ts', "export { DEMO_CLIENT_ID } from '../shared/constants.ts';\n")).toEqual([]);
  });

  it('reads every core folder\'s boundaries from its README.md, whose two lines agree', async () => {
    const { readCoreFolders } = (await import(new URL('../../eslint-rules.js', import.meta.url).href)) as {
      readCoreFolders(coreDir: string): { name: string; mayImport?: string[]; neverImportedBy?: string[] }[];
    };
    const folders = readCoreFolders(`${root}src/core`);
    const names = folders.map(({ name }) => name);
    expect(names).toEqual(expect.arrayContaining(['config', 'entry', 'keychain', 'net', 'presets', 'protocol', 'session']));
    for (const { name, mayImport, neverImportedBy } of folders) {
      expect(mayImport, `src/core/${name}/README.md: "- **May import:**"`).toBeDefined();
      expect(neverImportedBy, `src/core/${name}/README.md: "- **Never imported by:**"`).toBeDefined();
      for (const listed of [...(mayImport ?? []), ...(neverImportedBy ?? [])]) expect(names, `src/core/${name}/README.md names ${listed}/`).toContain(listed);
      // "Never imported by" is exactly the folders whose "May import" leaves this one out.
      const importers = folders.filter((other) => other.mayImport?.includes(name)).map((other) => other.name);
      const others = names.filter((other) => other !== name);
      expect([...(neverImportedBy ?? [])].sort(), `src/core/${name}/README.md: "Never imported by"`).toEqual(others.filter((other) => !importers.includes(other)).sort());
    }
  });

  it('keeps the door narrow: src/core/index.ts exports only names that code outside the core imports from it', () => {
    const outside = ['src/main', 'src/cli', 'bench', 'support', 'scripts', 'test'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)),
    );
    const users = [...outside, ...readdirSync(root).filter((file) => file.endsWith('.config.ts'))]
      .filter((file) => /\.(ts|js)$/.test(file) && !/^test\/(core|helpers|lint)\//.test(file))
      .map((file) => readFileSync(join(root, file), 'utf8'))
      .filter((text) => /core\/index\.ts'/.test(text))
      .join('\n');
    const door = readFileSync(join(root, 'src/core/index.ts'), 'utf8');
    const exported = [...door.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap(([, names]) => (names ?? '').split(',').map((name) => name.replace(/^\s*type\s+/, '').trim()).filter(Boolean));
    expect(exported.length).toBeGreaterThan(10);
    expect(exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(users))).toEqual([]);
  });

  it('fails on an import cycle', async () => {
    const withFixtures = new ESLint({ cwd: root, ignore: false });
    const results = await withFixtures.lintFiles(['test/lint-fixtures/cycle/a.ts']);
    expect(results[0]?.messages.map((message) => message.ruleId)).toContain('import-x/no-cycle');
  });

  it('fails on an import cycle made of type-only imports', async () => {
    const withFixtures = new ESLint({ cwd: root, ignore: false });
    const results = await withFixtures.lintFiles(['test/lint-fixtures/type-cycle/a.ts']);
    const cycles = results[0]?.messages.filter((message) => message.ruleId === 'latchkey/no-import-cycle') ?? [];
    expect(cycles.map((message) => message.message).join('\n')).toMatch(/type-cycle\/a\.ts → test\/lint-fixtures\/type-cycle\/b\.ts → test\/lint-fixtures\/type-cycle\/a\.ts/);
  });

  it('passes on the repository as it is', async () => {
    const results = await eslint.lintFiles(['src', 'test', 'bench', 'support', 'scripts']);
    const errors = results.flatMap((result) => result.messages.filter((message) => message.severity === 2).map((message) => `${result.filePath}: ${message.ruleId} ${message.message}`));
    expect(errors).toEqual([]);
  });
});
