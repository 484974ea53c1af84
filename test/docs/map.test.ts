// The map of folders in docs/architecture.md is written from the folders (scripts/docs-map.ts), never
// by hand: the repository's map must be what the folders say now, and the check must name what differs
// when a folder changes without the map.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/docs-map.ts');

function docsMap(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe('the map of folders in docs/architecture.md', () => {
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  });

  it('is what the folders say now (npm run docs:map writes it)', () => {
    const check = docsMap('--check');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('--check exits 1 and names the difference when a folder changes without the map; a folder without README says so', () => {
    scratch = mkdtempSync(join(tmpdir(), 'latchkey-docs-map-'));
    write(scratch, 'docs/architecture.md', '# Architecture\n\n<!-- map:start -->\n<!-- map:end -->\n\nAfter the map.\n');
    write(scratch, 'src/core/index.ts', '// The door of a small core.\nexport {};\n');
    write(scratch, 'src/core/alpha/README.md', '# alpha/ — the first concept\n\nText.\n\n- **May import:** nothing but the core\'s root (errors.ts, log.ts, timers.ts) and src/shared\n');
    write(scratch, 'src/core/alpha/one.ts', 'export {};\n');
    write(scratch, 'src/core/beta/two.ts', 'export {};\n');
    write(scratch, 'src/cli/main.ts', '#!/usr/bin/env node\n// `tool` — a command line. More words here.\nexport {};\n');

    expect(docsMap('--root', scratch, '--check').status).toBe(1);
    expect(docsMap('--root', scratch).status).toBe(0);
    const written = readFileSync(join(scratch, 'docs/architecture.md'), 'utf8');
    expect(written).toContain('| [`alpha/`](../src/core/alpha/README.md) | the first concept | nothing but the core\'s root');
    expect(written).toMatch(/\| `beta\/` \| \(no README\) \| \(no README\) \| `two\.ts` \|/);
    expect(written).toContain('| `src/cli/` | `tool` — a command line. | `main.ts` |');
    expect(written).toMatch(/<!-- map:end -->\n\nAfter the map\.\n$/);
    expect(docsMap('--root', scratch, '--check').status).toBe(0);

    write(scratch, 'src/core/beta/three.ts', 'export {};\n');
    const stale = docsMap('--root', scratch, '--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/out of date; run `npm run docs:map`/);
    expect(stale.stderr).toContain('- | `beta/` | (no README) | (no README) | `two.ts` |');
    expect(stale.stderr).toContain('+ | `beta/` | (no README) | (no README) | `three.ts` `two.ts` |');
  });
});
