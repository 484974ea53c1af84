#!/usr/bin/env node
// The package's `latchkey` command. Node ≥ 22.18 runs the TypeScript CLI directly (type stripping).
import { main } from '../src/cli/main.ts';

await main();
