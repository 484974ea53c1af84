// The layout's boundaries are enforced by `npm run lint` (eslint.config.js).
// Each crossing is linted as a file at the place it would live, and must fail;
// the repository itself must pass.
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
