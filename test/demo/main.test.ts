import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '../../src/demo/main.ts');

function runIdp(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm run idp', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-idp-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the issuer and API URLs, serves discovery and stops cleanly on SIGTERM', async () => {
    const idp = runIdp({ DEMO_IDP_PORT: '0', DEMO_API_PORT: '0', DEMO_DATA_DIR: dataDir, DEMO_ACCESS_TOKEN_TTL: '5' });
    try {
      await until(() => /^api: /m.test(idp.output().stdout));
      const lines = idp.output().stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^issuer: http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines[1]).toMatch(/^api: http:\/\/127\.0\.0\.1:\d+$/);
      const issuer = lines[0]!.slice('issuer: '.length);
      const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as { issuer: string };
      expect(discovery.issuer).toBe(issuer);
    } finally {
      idp.child.kill('SIGTERM');
    }
    expect(await idp.exited).toBe(0);
  });

  it('an unusable DEMO_DATA_DIR is one line naming DEMO_DATA_DIR and exit code 1', async () => {
    const file = join(dataDir, 'not-a-folder');
    await writeFile(file, '');
    const idp = runIdp({ DEMO_IDP_PORT: '0', DEMO_API_PORT: '0', DEMO_DATA_DIR: join(file, 'demo') });
    expect(await idp.exited).toBe(1);
    const { stderr, stdout } = idp.output();
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`Set DEMO_DATA_DIR to a folder you can write to (now ${join(file, 'demo')}).`);
  });

  it('a busy port is one clear line and exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const idp = runIdp({ DEMO_IDP_PORT: String(port), DEMO_API_PORT: '0', DEMO_DATA_DIR: dataDir });
      expect(await idp.exited).toBe(1);
      const { stderr, stdout } = idp.output();
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
