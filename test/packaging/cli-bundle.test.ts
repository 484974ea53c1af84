// `npm run build` also bundles the `latchkey` command: one start-up module that
// loads the protocol and HTTP libraries only when a command needs the network,
// and a bin that runs it from an installed package, without the repository.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the bundled CLI', () => {
  let installed: string;
  let bundle: string;

  beforeAll(async () => {
    installed = mkdtempSync(join(tmpdir(), 'latchkey-installed-'));
    const pkg = join(installed, 'node_modules', 'latchkey');
    bundle = join(pkg, 'out', 'cli');
    await build({ root: ROOT, configFile: join(ROOT, 'vite.cli.config.ts'), logLevel: 'warn', build: { outDir: bundle } });
    await build({ root: ROOT, configFile: join(ROOT, 'vite.cli-script.config.ts'), logLevel: 'warn', build: { outDir: bundle } });
    // What `npm install` puts in place: the package's `files` and its dependencies beside it — no src/, no repository.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(manifest.files).toEqual(['bin/', 'out/cli/']);
    cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    mkdirSync(join(installed, 'node_modules'), { recursive: true });
    for (const dependency of readdirSync(join(ROOT, 'node_modules'))) {
      if (dependency !== '.bin') symlinkSync(join(ROOT, 'node_modules', dependency), join(installed, 'node_modules', dependency));
    }
  }, 120_000);

  afterAll(() => {
    rmSync(installed, { recursive: true, force: true });
  });

  /** The code a module of the bundle loads with it: itself and what it imports statically, not what waits behind import(). */
  const loadedWith = (entry: string): string => {
    const loaded = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const code = readFileSync(join(bundle, file), 'utf8');
      for (const [, specifier] of code.matchAll(/^(?:import|export)\b[^;]*?from "(\.[^"]+)"|^import "(\.[^"]+)"/gm)) {
        if (specifier) visit(join(file, '..', specifier));
      }
    };
    visit(entry);
    return [...loaded].map((file) => readFileSync(join(bundle, file), 'utf8')).join('\n');
  };

  it('starts without the protocol, HTTP and QR libraries: openid-client, undici and uqr load only behind dynamic imports', () => {
    const loaded = loadedWith('main.js');
    expect(loaded).not.toMatch(/from "(openid-client|undici|uqr)"/);
    expect(loaded).not.toMatch(/\.ts"/);
    const everything = readdirSync(bundle, { recursive: true }).filter((file) => String(file).endsWith('.js')).map((file) => readFileSync(join(bundle, String(file)), 'utf8')).join('\n');
    expect(everything).toContain('from "openid-client"');
    expect(everything).toContain('import("keytar")');
  });

  it('answers --help and usage errors without loading the core: no keychain or session code starts with main.js', () => {
    const loaded = loadedWith('main.js');
    expect(loaded).toContain('Usage: latchkey <command>');
    expect(loaded).not.toContain('import("keytar")');
    expect(loaded).not.toMatch(/function createAuthSession|function loadConfig/);
    expect(loadedWith('chunks/command-runner.js')).toMatch(/function createAuthSession/);
  });

  it('is ASCII without comments, so V8 holds every module as a one-byte string; the text it prints is unchanged', async () => {
    const files = readdirSync(bundle, { recursive: true }).map(String).filter((file) => /\.c?js$/.test(file));
    expect(files).toContain('quick-token.cjs');
    for (const file of files) {
      const bytes = readFileSync(join(bundle, file));
      expect({ file, beyondAscii: bytes.findIndex((byte) => byte > 0x7f) }).toEqual({ file, beyondAscii: -1 });
      expect({ file, jsdoc: /^\s*\/\*\*/m.test(bytes.toString('latin1')) }).toEqual({ file, jsdoc: false });
    }
    // The usage text has "…", "→" and "·": escaped in the bundle, printed as written.
    expect([...USAGE].some((character) => character.charCodeAt(0) > 0x7f)).toBe(true);
    const help = await run(join(installed, 'node_modules', 'latchkey', 'bin', 'latchkey.js'), ['--help']);
    expect(help.stdout).toBe(`${USAGE}\n`);
  });

  it('runs from an installed package through its bin', async () => {
    const bin = join(installed, 'node_modules', 'latchkey', 'bin', 'latchkey.js');
    const help = await run(bin, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: latchkey <command>/);
    const status = await run(bin, ['status', '--json'], { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', AUTH_DATA_DIR: join(installed, 'data') });
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: false, keychain: 'memory-only' });
  });
});

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmpdir(), env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}
