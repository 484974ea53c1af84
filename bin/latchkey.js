#!/usr/bin/env node
// The package's `latchkey` command: the bundled CLI that `npm run build` writes to out/cli/
// (what an installed package runs), else — in a checkout that was not built — the
// TypeScript source, which Node ≥ 22.19 runs directly (type stripping). The Node check comes first:
// static imports run in order, before this module's body.
import './node-check.js';
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const bundled = new URL('../out/cli/main.js', import.meta.url);
const { main } = await import(existsSync(bundled) ? bundled.href : '../src/cli/main.ts');
await main();
