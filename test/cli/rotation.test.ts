// Refresh token rotation under faults, races and interruptions, with real
// processes over the real demo provider and OS keychain: whatever happens, the
// provider never sees a refresh token redeemed twice, and logout stays logout.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import keytar from 'keytar';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectProvider, createAuthSession, createHttpClient, createLogger, keychainAccount, loadConfig, openKeychain, type HttpClient, type Keychain } from '../../src/core/index.ts';
import { freePort, startTestDemo } from '../helpers/demo.ts';
import { statusWithToken, withStoredKey, type StoredDpopKey } from '../helpers/api-call.ts';
import { demoCliEnv, JWT, startCli } from '../helpers/cli.ts';



describe('refresh token rotation across processes', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let otherDataDir: string;
  const service = `latchkey-test-rotation-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-rotation-a-'));
    otherDataDir = await mkdtemp(join(tmpdir(), 'latchkey-rotation-b-'));
    demo = await startTestDemo({ accessTokenTtl: 60 });
  });

  afterAll(async () => {
    await keytar.deletePassword(service, keychainAccount(config()));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(otherDataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    if ((await storedRefreshToken()) === null) expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);

  const config = () => loadConfig({ env: env() });

  const start = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => startCli(args, env(extraEnv));

  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => start(args, extraEnv).result;

  async function storedRefreshToken(): Promise<string | null> {
    const raw = await keytar.getPassword(service, keychainAccount(config()));
    return raw === null ? null : (JSON.parse(raw) as { refresh_token: string }).refresh_token;
  }

  async function apiStatus(token: string): Promise<number> {
    return statusWithToken(`${demo.apiUrl}/me`, token, { service, account: keychainAccount(config()) });
  }

  /** Whether the provider still redeems `refreshToken` for whoever holds it and its DPoP key (as stored with it). */
  async function refreshWorks(refreshToken: string, key: StoredDpopKey | undefined): Promise<boolean> {
    const http = createHttpClient();
    try {
      const provider = await connectProvider(config(), { http });
      await provider.refresh(refreshToken, await withStoredKey(key));
      return true;
    } catch {
      return false;
    } finally {
      await http.close();
    }
  }

  /** The demo's token endpoint received a request (counted before it is handled). */
  async function tokenRequestArrived(before: number): Promise<void> {
    while (demo.stats.tokenRequests === before) await delay(1);
  }

  /** The session's transport with one change made on the way, as a network would: the provider itself is untouched. */
  function transport(change: (url: URL, send: () => Promise<Response>) => Promise<Response>): HttpClient {
    const real = createHttpClient();
    return { ...real, fetch: ((input: string | URL, init?: RequestInit) => change(new URL(String(input)), () => real.fetch(input, init))) as typeof fetch };
  }

  it('a JWKS fetch that fails after a rotating refresh keeps the rotated token: the next refresh, in another process, succeeds without reuse', async () => {
    const before = (await storedRefreshToken())!;
    const closedPort = await freePort();
    // The key set cannot be fetched (connection refused) right after the provider answered with a rotated token.
    const http = transport((url, send) => (url.pathname === '/jwks' ? createHttpClient().fetch(`http://127.0.0.1:${closedPort}/jwks`) : send()));
    const session = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }), http });
    try {
      await expect(session.refreshAccessToken(await session.getAccessToken())).rejects.toMatchObject({ code: 'provider_unreachable' });
      expect(session.getState().status).toBe('offline');
    } finally {
      await session.close();
      await http.close();
    }
    const rotated = await storedRefreshToken();
    expect(rotated).not.toBeNull();
    expect(rotated).not.toBe(before);

    const next = await cli(['token', '--refresh']);
    expect(next.code, next.stderr).toBe(0);
    expect(await apiStatus(next.stdout.trim())).toBe(200);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('4 + 4 concurrent `token --refresh` processes with two data folders and one keychain entry all succeed, without reuse', async () => {
    const before = demo.stats.tokenRequests;
    const runs = [dataDir, otherDataDir].flatMap((folder) => [1, 2, 3, 4].map(() => cli(['token', '--refresh'], { AUTH_DATA_DIR: folder })));
    const results = await Promise.all(runs);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(JWT);
    }
    // Each process redeems under the lock, or adopts the access token another one refreshed after it started.
    expect(demo.stats.tokenRequests - before).toBeGreaterThanOrEqual(1);
    expect(demo.stats.tokenRequests - before).toBeLessThanOrEqual(8);
    expect(demo.stats.reuseDetected).toBe(0);
    const after = await cli(['token', '--refresh'], { AUTH_DATA_DIR: otherDataDir });
    expect(after.code, after.stderr).toBe(0);
    expect(await apiStatus(after.stdout.trim())).toBe(200);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('SIGINT to `token` while its refresh is at the provider still stores the rotated token', async () => {
    const before = (await storedRefreshToken())!;
    const requests = demo.stats.tokenRequests;
    const { child, result } = start(['token', '--refresh']);
    await tokenRequestArrived(requests);
    child.kill('SIGINT');
    // Hold the provider (it runs in this process) so the signal surely lands before its answer does.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const interrupted = await result;
    expect(interrupted.signal).toBeNull();
    // Redeeming `before` again here would itself be reuse: the stored token must be the rotated one.
    expect(await storedRefreshToken()).not.toBe(before);

    const next = await cli(['token', '--refresh']);
    expect(next.code, next.stderr).toBe(0);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('a logout while another process’s refresh is held up 7 s at the provider leaves nobody signed in and no usable refresh token', async () => {
    const stored: string[] = [];
    const storedKeys: (StoredDpopKey | undefined)[] = [];
    const keychain = await openKeychain(service);
    const refreshAccount = keychainAccount(config());
    const recording: Keychain = {
      ...keychain,
      kind: keychain.kind,
      set: async (account, secret) => {
        if (account === refreshAccount) {
          stored.push(JSON.parse(secret).refresh_token);
          storedKeys.push(JSON.parse(secret).dpop_key);
        }
        return keychain.set(account, secret);
      },
    };
    const http = transport(async (url, send) => {
      const response = await send();
      if (url.pathname === '/token') await delay(7_000);
      return response;
    });
    const app = await createAuthSession({ config: config(), opener: async () => {}, keychain: recording, logger: createLogger({ level: 'silent' }), http });
    try {
      const current = await app.getAccessToken();
      const requests = demo.stats.tokenRequests;
      const refreshing = app.refreshAccessToken(current);
      await tokenRequestArrived(requests);
      const logout = await cli(['logout'], { AUTH_DATA_DIR: otherDataDir });
      expect(logout.code, logout.stderr).toBe(0);
      expect(logout.stderr).toMatch(/Waiting for another Latchkey process/);
      const token = await refreshing;
      expect(token).toMatch(JWT);
      expect(stored).toHaveLength(1);

      expect(await storedRefreshToken()).toBeNull();
      expect(await keytar.getPassword(service, `${refreshAccount}#access-token`)).toBeNull();
      expect((await cli(['status'])).code).toBe(1);
      await expect(app.refreshAccessToken(token)).rejects.toMatchObject({ code: 'signed_out' });
      expect(app.getState().status).toBe('signed-out');
      expect(storedKeys[0]).toBeDefined();
      expect(await refreshWorks(stored[0]!, storedKeys[0])).toBe(false);
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      await app.close();
      await http.close();
    }
  }, 30_000);
});
