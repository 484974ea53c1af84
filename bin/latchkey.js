#!/usr/bin/env node
// The package's `latchkey` command: the bundled CLI that `npm run build` writes to out/cli/
// (what an installed package runs), else — in a checkout that was not built — the
// TypeScript source, which Node ≥ 22.19 runs directly (type stripping). The Node check comes first:
// static imports run in order, before this module's body.
// `process.getBuiltinModule`, not `import … from 'node:fs'`: an ES import of fs also loads fs/promises
// and the readline code behind it, a cost on every start (vite.cli.config.ts says more).
/* global process, URL */
import './node-check.js';

const { existsSync } = process.getBuiltinModule('node:fs');

const bundled = new URL('../out/cli/main.js', import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : '../src/cli/main.ts');
await main();
