#!/usr/bin/env node
// The package's `latchkey` command: the bundled CLI that `npm run build` writes to out/cli/
// (what an installed package runs), else — in a checkout that was not built — the
// TypeScript source, which Node ≥ 22.18 runs directly (type stripping).
// `process.getBuiltinModule`, not `import … from 'node:fs'`: an ES import of fs also loads fs/promises
// and the readline code behind it, a cost on every start (vite.cli.config.ts says more).
/* global process, URL */
const { existsSync } = process.getBuiltinModule('node:fs');

const bundled = new URL('../out/cli/main.js', import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : '../src/cli/main.ts');
await main();
