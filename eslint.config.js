import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import latchkey from './eslint-rules.js';

// The layout's boundaries (docs/architecture.md), enforced:
// electron only in the shell; the core entered through its index; the core
// depends on nothing but src/shared; the demo is independent of the core; no cycles.
// `import()` obeys the same boundaries as `import` (latchkey/restricted-dynamic-imports), and a
// cycle through type-only or dynamic imports is still a cycle (latchkey/no-import-cycle).
const ELECTRON = { name: 'electron', message: 'Only the Electron shell (src/main, src/preload) may import electron.' };
const CORE_INSIDES = {
  group: ['**/core/**', '!**/core/index.ts'],
  message: 'Import the auth core through src/core/index.ts only.',
};
const layer = (name, message) => ({ group: [`**/${name}/**`, `**/${name}`], message });
const SHELL = layer('main', 'The shell (src/main) depends on the core, never the other way round.');
const CLI = layer('cli', 'The CLI is an entry point: nothing imports it.');
const DEMO = layer('demo', 'The demo provider is a separate program: share constants through src/shared.');
const CORE = layer('core', 'The demo provider and the page are independent of the auth core.');
const PAGE = layer('renderer', 'The page talks to main only through window.auth / window.app.');
const PRELOAD = layer('preload', 'Only Electron loads the preload.');

const restrict = (files, { paths = [], patterns = [] }) => ({
  files,
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
  restrict(['src/core/**'], { paths: [ELECTRON], patterns: [SHELL, CLI, DEMO, PAGE, PRELOAD] }),
  restrict(['src/shared/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, DEMO, PAGE, PRELOAD] }),
  restrict(['src/demo/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, PAGE, PRELOAD] }),
  restrict(['src/cli/**'], { paths: [ELECTRON], patterns: [CORE_INSIDES, SHELL, DEMO, PAGE, PRELOAD] }),
  restrict(['src/main/**'], { patterns: [CORE_INSIDES, CLI, PAGE] }),
  restrict(['src/preload/**'], { patterns: [CORE, SHELL, CLI, DEMO, PAGE] }),
  restrict(['src/renderer/**'], { paths: [ELECTRON], patterns: [CORE, SHELL, CLI, DEMO, PRELOAD] }),
);
