import { join } from 'node:path';
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import latchkey, { readCoreFolders } from './eslint-rules.js';

// The layout's boundaries (docs/architecture.md; each core folder's README.md), enforced:
// electron only in the shell; the core entered through its index; the core
// depends on nothing but src/shared; the demo is independent of the core; no cycles.
// Inside the core, each folder imports only the folders its README.md lists under "May import"
// (read here: no list is kept by hand), the core's root files import only src/shared, and nothing
// inside the core imports its doors. No re-export outside the doors (latchkey/no-re-export).
// `import()` obeys the same boundaries as `import` (latchkey/restricted-dynamic-imports), and a
// cycle through type-only or dynamic imports is still a cycle (latchkey/no-import-cycle).
const ELECTRON = { name: 'electron', message: 'Only the Electron shell (src/main, src/preload) may import electron.' };
const CORE_INSIDES = {
  group: ['**/core/**', '!**/core/index.ts'],
  message: 'Import the auth core through src/core/index.ts only.',
};
// The CLI's doctor also has the core's doctor face.
const CORE_INSIDES_BUT_DOCTOR = {
  group: ['**/core/**', '!**/core/index.ts', '!**/core/doctor.ts'],
  message: 'Import the auth core through src/core/index.ts only (the CLI\'s doctor also through src/core/doctor.ts).',
};
const layer = (name, message) => ({ group: [`**/${name}/**`, `**/${name}`], message });
const SHELL = layer('main', 'The shell (src/main) depends on the core, never the other way round.');
const CLI = layer('cli', 'The CLI is an entry point: nothing imports it.');
const DEMO = layer('demo', 'The demo provider is a separate program: share constants through src/shared.');
const CORE = layer('core', 'The demo provider and the page are independent of the auth core.');
const PAGE = layer('renderer', 'The page talks to main only through window.auth / window.app.');
const PRELOAD = layer('preload', 'Only Electron loads the preload.');

// The doors of the core: index.ts for everything outside, doctor.ts for the CLI's doctor only.
const CORE_DOORS = ['src/core/index.ts', 'src/core/doctor.ts'];
const DOORS = [...CORE_DOORS, 'src/demo/index.ts'];
const NO_DOOR_INSIDE = {
  regex: String.raw`^\.{1,2}/(\.\./)*(core/)?(index|doctor)\.ts$`,
  message: 'Inside the core, import the file that declares a name, never the doors (index.ts, doctor.ts): they are for code outside the core.',
};
/** A relative import of core folder `name`, from a file of the core (`../name/…`) or from its root (`./name/…`). */
const folderImport = (name) => String.raw`^\.{1,2}/(\.\./)*(core/)?${name}/`;
const CORE_FOLDERS = readCoreFolders(join(import.meta.dirname, 'src/core'));
for (const { name, mayImport } of CORE_FOLDERS) {
  if (mayImport === undefined) throw new Error(`src/core/${name}/README.md must say what the folder may import: a "- **May import:** …" line (see the other folders).`);
}
const ROOT_FILES = { files: ['src/core/*.ts'], ignores: CORE_DOORS };
const FROM_ROOT = CORE_FOLDERS.map(({ name }) => ({
  regex: folderImport(name),
  message: `The core's root files (errors.ts, log.ts, timers.ts) import only src/shared: every folder imports them, so they import no folder (here ${name}/).`,
}));
const boundaryOf = (name, mayImport, files) => ({
  files,
  patterns: CORE_FOLDERS.filter((other) => other.name !== name && !mayImport.includes(other.name)).map((other) => ({
    regex: folderImport(other.name),
    message: `${name}/ may not import ${other.name}/: src/core/${name}/README.md lists what it may import (${mayImport.map((folder) => `${folder}/`).join(', ') || "only the core's root and src/shared"}).`,
  })),
});
const folderBoundaries = CORE_FOLDERS.map(({ name, mayImport }) => boundaryOf(name, mayImport, [`src/core/${name}/**`]));

const restrict = (files, { paths = [], patterns = [], ignores }) => ({
  files,
  ...(ignores ? { ignores } : {}),
  rules: {
    'no-restricted-imports': ['error', { paths, patterns }],
    'latchkey/restricted-dynamic-imports': ['error', { paths, patterns }],
  },
});

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-output/', 'test/lint-fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    plugins: { 'import-x': importX, latchkey },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'latchkey/no-import-cycle': 'error',
    },
  },
  restrict(['bench/**', 'support/**', 'scripts/**', 'test/**'], { patterns: [CORE_INSIDES] }),
  // The core's tests, and the helpers they share with the rest, may test its files directly.
  restrict(['test/core/**', 'test/helpers/**'], {}),
  // The core: its doors may import any of it; its root files and each folder are narrowed below.
  restrict(['src/core/**'], { paths: [ELECTRON], patterns: [SHELL, CLI, DEMO, PAGE, PRELOAD, NO_DOOR_INSIDE] }),
  restrict(ROOT_FILES.files, { ignores: ROOT_FILES.ignores, paths: [ELECTRON], patterns: [SHELL, CLI, DEMO, PAGE, PRELOAD, NO_DOOR_INSIDE, ...FROM_ROOT] }),
  ...folderBoundaries.map(({ files, patterns }) => restrict(files, { paths: [ELECTRON], patterns: [SHELL, CLI, DEMO, PAGE, PRELOAD, NO_DOOR_INSIDE, ...patterns] })),
  restrict(['src/shared/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, DEMO, PAGE, PRELOAD] }),
  restrict(['src/demo/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, PAGE, PRELOAD] }),
  restrict(['src/cli/**'], { paths: [ELECTRON], patterns: [CORE_INSIDES, SHELL, DEMO, PAGE, PRELOAD] }),
  restrict(['src/cli/doctor/**'], { paths: [ELECTRON], patterns: [CORE_INSIDES_BUT_DOCTOR, SHELL, DEMO, PAGE, PRELOAD] }),
  restrict(['src/main/**'], { patterns: [CORE_INSIDES, CLI, PAGE] }),
  restrict(['src/preload/**'], { patterns: [CORE, SHELL, CLI, DEMO, PAGE] }),
  restrict(['src/renderer/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, DEMO, PRELOAD] }),
  { files: ['src/**'], ignores: DOORS, rules: { 'latchkey/no-re-export': 'error' } },
);
