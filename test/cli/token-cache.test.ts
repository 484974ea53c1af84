// One access token for every process of a session: the app and any number of
// CLIs share it through the keychain, and refresh only when it nears expiry —
// real processes, the demo provider and the OS keychain.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthSession, createLogger, keychainAccount, loadConfig, type AuthSession } from '../../src/core/index.ts';
import { forgetSessionEntries, portOf, startTestDemo } from '../helpers/demo.ts';
import { statusWithToken } from '../helpers/api-call.ts';
import { demoCliEnv, JWT, runCli } from '../helpers/cli.ts';

// Ten minutes: renewal starts 60 s before the end (retry-schedule.ts), far beyond this file's run on any
// machine, so every token request counted here is one a test caused, never a renewal that came due
// because a busy machine ran its 28 CLI processes slowly.
const ACCESS_TOKEN_TTL_S = 600;

describe('the shared access token', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let demoDataDir: string;
  const service = `latchkey-test-token-cache-${randomUUID()}`;
  const outputs: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-token-cache-'));
    demoDataDir = await mkdtemp(join(tmpdir(), 'latchkey-token-cache-demo-'));
    demo = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dataDir: demoDataDir });
    expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
  });

  afterAll(async () => {
    await forgetSessionEntries(service, keychainAccount(config()));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(demoDataDir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);

  const config = () => loadConfig({ env: env() });

  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runCli(args, env(extraEnv), (_command, { stdout, stderr }) => outputs.push(stdout, stderr));

  const session = () => createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }) });

  async function apiStatus(token: string): Promise<number> {
    return statusWithToken(`${demo.apiUrl}/me`, token, { service, account: keychainAccount(config()) });
  }

  it('20 sequential and 8 parallel `token` calls after one sign-in cost no token request, and every token works at the API', async () => {
    const before = demo.stats.tokenRequests;
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await cli(['token']);
      expect(result.code, result.stderr).toBe(0);
      tokens.push(result.stdout.trim());
    }
    const parallel = await Promise.all(Array.from({ length: 8 }, () => cli(['token'])));
    for (const result of parallel) {
      expect(result.code, result.stderr).toBe(0);
      tokens.push(result.stdout.trim());
    }
    expect(demo.stats.tokenRequests - before).toBeLessThanOrEqual(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(JWT);
    expect(await apiStatus(tokens[0]!)).toBe(200);
  });

  it('`token` with a valid cached token needs no network: it answers with the provider down', async () => {
    const { issuer } = demo;
    const cached = (await cli(['token'])).stdout.trim();
    await demo.close();
    try {
      const offline = await cli(['token']);
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout.trim()).toBe(cached);
    } finally {
      demo = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dataDir: demoDataDir, idpPort: portOf(issuer) });
    }
  });

  it('the app and a CLI started later use the same access token', async () => {
    const app = await session();
    try {
      const fromApp = await app.getAccessToken();
      const fromCli = await cli(['token']);
      expect(fromCli.stdout.trim()).toBe(fromApp);
    } finally {
      await app.close();
    }
  });

  it('a shared token rejected with 401 in several processes at once is replaced by one refresh, which all of them use', async () => {
    const apps: AuthSession[] = await Promise.all([1, 2, 3, 4].map(() => session()));
    try {
      const rejected = await apps[0]!.getAccessToken();
      for (const app of apps) expect(await app.getAccessToken()).toBe(rejected);
      const before = demo.stats.tokenRequests;
      const renewed = await Promise.all(apps.map((app) => app.refreshAccessToken(rejected)));
      expect(demo.stats.tokenRequests - before).toBe(1);
      expect(new Set(renewed).size).toBe(1);
      expect(renewed[0]).not.toBe(rejected);
      expect(await apiStatus(renewed[0]!)).toBe(200);
      expect((await cli(['token'])).stdout.trim()).toBe(renewed[0]);
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });

  it('logout deletes the shared access token with the session, and status --json never shows it', async () => {
    const token = (await cli(['token'])).stdout.trim();
    const status = await cli(['status', '--json']);
    expect(status.stdout).not.toContain(token);
    expect((await cli(['logout'])).code).toBe(0);
    expect(await keytar.getPassword(service, `${keychainAccount(config())}#access-token`)).toBeNull();
    const after = await cli(['token']);
    expect(after.code).toBe(1);
    expect(after.stdout).toBe('');
  });
});
