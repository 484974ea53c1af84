// Every entry point checks the Node version before anything that fails on an older Node (loading .ts, the
// bundles' syntax): `npm run cli`, `npm run idp`, `npm start` and the `latchkey` bin, run by a Node older than
// 22.19 found on this machine (its /usr/bin/node or another `node` on PATH), say which Node they need and exit 2.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** A `node` older than 22.19 on this machine, or undefined. */
function olderNode(): { path: string; version: string } | undefined {
  const candidates = new Set(['/usr/bin/node', '/usr/local/bin/node']);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.add(join(dir, 'node'));
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
      const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
      if (major < 22 || (major === 22 && minor < 19)) return { path, version };
    } catch {
      // Not a runnable node: look further.
    }
  }
  return undefined;
}

const old = olderNode();

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The older Node first on PATH: what `node` in an npm script resolves to on such a machine.
  const env = { ...process.env, PATH: `${dirname(old!.path)}${delimiter}${process.env.PATH ?? ''}`, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  return new Promise((done, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe.skipIf(!old)(`every entry point on an older Node (${old ? `${old.version} at ${old.path}` : 'none found on this machine: skipped'})`, () => {
  const expected = (version: string) => `Latchkey needs Node ≥ 22.19 (this is ${version}). Install Node 22.19 or newer`;

  it.each([
    ['the latchkey bin', () => run(old!.path, [join(ROOT, 'bin/latchkey.js'), 'status'])],
    ['npm run cli', () => run('npm', ['run', '--silent', 'cli', '--', 'status'])],
    ['npm run idp', () => run('npm', ['run', '--silent', 'idp'])],
    ['npm start', () => run('npm', ['start', '--silent'])],
  ])('%s says which Node it needs and what to do, and exits 2', async (_name, start) => {
    const result = await start();
    expect(result.stderr).toContain(expected(old!.version));
    expect(result.stderr).toContain('then run the command again.');
    // Nothing else ran: no stack trace, no ERR_UNKNOWN_FILE_EXTENSION, no build.
    expect(result.stderr).not.toMatch(/ERR_|\n\s+at /);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });
});
