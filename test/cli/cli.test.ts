// The CLI as a user runs it: real processes over the real demo provider,
// Chromium (through $BROWSER) and the OS keychain.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, createHttpClient, connectProvider, createLogger, createAuthSession, keychainAccount } from '../../src/core/index.ts';
import { freePort, issuedSecrets, portOf, startTestDemo } from '../helpers/demo.ts';
import { compileCacheDir } from '../../src/cli/compile-cache.ts';
import { demoCliEnv, JWT, ROOT as root, runCli } from '../helpers/cli.ts';
import { parseHeaderLines, statusWithToken, withStoredKey, type StoredDpopKey } from '../helpers/api-call.ts';
import { entrySecrets, findLeaks, readFolders, type Captured } from '../helpers/leaks.ts';

// Short enough to expire within the test, long enough that a token a process prints is still good when
// the test takes it to the API on a loaded machine (it is handed out until 2 s before expiry).
const ACCESS_TOKEN_TTL_S = 5;


describe('latchkey CLI', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let demoDataDir: string;
  const service = `latchkey-test-cli-${randomUUID()}`;
  const outputs: Captured[] = [];
  const secrets = new Set<string>();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-data-'));
    // Our own folder for the provider's state, so it survives the provider's restart below.
    demoDataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-demo-'));
    demo = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dataDir: demoDataDir });
  });

  afterAll(async () => {
    await keytar.deletePassword(service, keychainAccount(config()));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(demoDataDir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);

  function config() {
    return loadConfig({ env: env() });
  }

  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runCli(args, env(extraEnv), (command, { stdout, stderr }) => outputs.push({ name: `stdout of ${command}`, text: stdout }, { name: `stderr of ${command}`, text: stderr }));

  /** The DPoP key each refresh token read from the entry was stored with: a revoked token is refused even to its key's holder. */
  const storedKeys = new Map<string, StoredDpopKey>();
  const withKey = async (token: string) => {
    const key = storedKeys.get(token);
    expect(key).toBeDefined();
    return withStoredKey(key);
  };

  async function storedRefreshToken(): Promise<string | null> {
    const raw = await keytar.getPassword(service, keychainAccount(config()));
    if (raw === null) return null;
    for (const secret of entrySecrets(raw)) secrets.add(secret);
    const entry = JSON.parse(raw) as { refresh_token: string; dpop_key?: StoredDpopKey };
    if (entry.dpop_key) storedKeys.set(entry.refresh_token, entry.dpop_key);
    return entry.refresh_token;
  }

  async function apiStatus(token: string): Promise<number> {
    secrets.add(token);
    return statusWithToken(`${demo.apiUrl}/me`, token, { service, account: keychainAccount(config()) });
  }

  async function withProvider<T>(use: (provider: Awaited<ReturnType<typeof connectProvider>>) => Promise<T>): Promise<T> {
    const http = createHttpClient();
    try {
      return await use(await connectProvider(config(), { http }));
    } finally {
      await http.close();
    }
  }

  const expiry = () => new Promise((resolve) => setTimeout(resolve, ACCESS_TOKEN_TTL_S * 1000 + 100));

  it('answers --help, and refuses unknown commands, unknown options and bad settings with exit 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/login \[--timeout SECONDS\]/);
    expect(help.stdout).toContain('config.json in the data folder');
    expect((await cli(['frobnicate'])).code).toBe(2);
    const badOption = await cli(['token', '--verbose']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--verbose/);
    const secret = await cli(['status'], { AUTH0_CLIENT_SECRET: 'shh' });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/AUTH0_CLIENT_SECRET: a client secret under this name is not read/);
    expect(secret.stderr).not.toContain('shh');
    const refused = await cli(['status'], { AUTH_PROVIDER: 'entra', AUTH_CLIENT_SECRET: 'shh' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/AUTH_CLIENT_SECRET: Microsoft Entra ID refuses a client secret from a desktop \(public\) client/);
    expect((await cli(['login', '--timeout', 'soon'])).code).toBe(2);
    // Longer than Node's longest timer, which would fire at once and end the sign-in with a false "not completed within".
    const tooLong = await cli(['login', '--timeout', '3000000'], { BROWSER: '/bin/true' });
    expect(tooLong.code, tooLong.stderr).toBe(2);
    expect(tooLong.stderr).toMatch(/^--timeout: "3000000" is too long; use at most 2147483 seconds\.\n$/);
  });

  it('status exits 1 and token exits 1 before any sign-in', async () => {
    const status = await cli(['status', '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: false, issuer: config().issuer, user: null, keychain: 'os' });
    const token = await cli(['token']);
    expect(token.code).toBe(1);
    expect(token.stdout).toBe('');
    expect(token.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('login signs in through $BROWSER; a new process finds the session; token prints only a valid access token', async () => {
    const login = await cli(['login', '--timeout', '60']);
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/^Signed in as Alice Liddell \(.+\)\n$/);
    expect(await storedRefreshToken()).toEqual(expect.any(String));

    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: true, issuer: config().issuer, keychain: 'os', user: { name: 'Alice Liddell', email: 'alice@example.com', sub: expect.any(String) } });

    const token = await cli(['token']);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await apiStatus(token.stdout.trim())).toBe(200);
  });

  it('`headers URL` prints Authorization: DPoP and a one-time DPoP proof the API accepts once; `token` says on stderr that its token needs one', async () => {
    const url = `${demo.apiUrl}/me`;
    const printed = await cli(['headers', url]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^Authorization: DPoP [\w-]+\.[\w-]+\.[\w-]+\nDPoP: [\w-]+\.[\w-]+\.[\w-]+\n$/);
    const headers = parseHeaderLines(printed.stdout);
    secrets.add(headers.Authorization!.slice(5));
    expect((await fetch(url, { headers })).status).toBe(200);
    expect((await fetch(url, { headers })).status).toBe(401);
    const post = await cli(['headers', '--method', 'post', url]);
    expect(JSON.parse(Buffer.from(parseHeaderLines(post.stdout).DPoP!.split('.')[1]!, 'base64url').toString())).toMatchObject({ htm: 'POST', htu: url });
    const outside = await cli(['headers', `${demo.issuer}/me`]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/^Latchkey gives credentials only for the configured API/);
    const token = await cli(['token']);
    expect(token.code).toBe(0);
    expect(token.stderr).toMatch(/DPoP-bound .* Use `latchkey headers URL`/);
  });

  it('parallel `token --refresh` processes after expiry all get tokens, without any refresh token reuse', async () => {
    await expiry();
    const before = demo.stats.tokenRequests;
    // Debug logs on, so the leak check at the end also covers what the refresh path logs.
    const results = await Promise.all([1, 2, 3, 4].map(() => cli(['token', '--refresh'], { LATCHKEY_LOG_LEVEL: 'debug' })));
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(JWT);
      expect(await apiStatus(result.stdout.trim())).toBe(200);
    }
    // Each redeems under the lock, or adopts the access token another one refreshed after it started.
    expect(demo.stats.tokenRequests - before).toBeGreaterThanOrEqual(1);
    expect(demo.stats.tokenRequests - before).toBeLessThanOrEqual(4);
    expect(demo.stats.reuseDetected).toBe(0);
    const after = await cli(['token']);
    expect(after.code).toBe(0);
    expect(await apiStatus(after.stdout.trim())).toBe(200);
  });

  it('the app and the CLI share the entry: the app redeems the token the CLI rotated, never its own stale one', async () => {
    const app = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }) });
    try {
      const appToken = await app.getAccessToken();
      secrets.add(appToken);
      const fromCli = await cli(['token', '--refresh']);
      expect(fromCli.code, fromCli.stderr).toBe(0);
      const renewed = await app.refreshAccessToken(appToken);
      expect(await apiStatus(renewed)).toBe(200);
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      await app.close();
    }
    const after = await cli(['token']);
    expect(after.code, after.stderr).toBe(0);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('exits 3 and keeps the refresh token when the provider answers 503 or HTML or is down, then recovers', async () => {
    const stored = await storedRefreshToken();
    for (const mode of ['unavailable', 'html'] as const) {
      demo.failTokenEndpoint(mode);
      // --refresh: a still-valid shared access token would be answered without asking the provider.
      const result = await cli(['token', '--refresh']);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await storedRefreshToken()).toBe(stored);
    }
    demo.failTokenEndpoint(null);

    const { issuer } = demo;
    await demo.close();
    const down = await cli(['token', '--refresh']);
    expect(down.code).toBe(3);
    expect(await storedRefreshToken()).toBe(stored);
    const doctor = await cli(['doctor']);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/✗ Discovery/);

    demo = await startTestDemo({ accessTokenTtl: ACCESS_TOKEN_TTL_S, dataDir: demoDataDir, idpPort: portOf(issuer) });
    const back = await cli(['token']);
    expect(back.code, back.stderr).toBe(0);
    expect(await apiStatus(back.stdout.trim())).toBe(200);
  });

  it('doctor checks discovery, PKCE S256, the refresh grant, revocation, DPoP and the redirect URI', async () => {
    const doctor = await cli(['doctor']);
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/✓ Discovery/);
    expect(doctor.stdout).toMatch(/✓ PKCE S256/);
    expect(doctor.stdout).toMatch(/✓ Refresh token grant/);
    expect(doctor.stdout).toMatch(/✓ Revocation/);
    expect(doctor.stdout).toMatch(/✓ Lock folder: /);
    expect(doctor.stdout).toMatch(/✓ Rotation grace period: none needed/);
    expect(doctor.stdout).toMatch(/✓ Redirect URI: http:\/\/127\.0\.0\.1:PORT\/callback/);
    // Asked at the authorization endpoint with a random port, as a sign-in would use: the demo accepts any port (RFC 8252 §7.3).
    expect(doctor.stdout).toMatch(/^✓ Redirect URI accepted: .* accepts http:\/\/127\.0\.0\.1:\d+\/callback \(a random port, as each sign-in uses\)$/m);
    expect(doctor.stdout).toMatch(/^✓ DPoP: offered \(ES256\): sessions are bound to a key of this installation \(AUTH_DPOP=auto\)$/m);
    const port = await freePort();
    const fixed = await cli(['doctor'], { AUTH_REDIRECT_PORT: String(port), AUTH_DPOP: 'off' });
    expect(fixed.stdout).toContain(`✓ Redirect URI: http://127.0.0.1:${port}/callback`);
    expect(fixed.stdout).toMatch(/^✓ DPoP: off \(AUTH_DPOP=off\): bearer tokens$/m);
  });

  it('doctor tells an Auth0 user to fix the port and what to register as Allowed Callback URLs', async () => {
    // A proxy that refuses connections keeps this test off the network.
    const auth0 = { AUTH_ISSUER: '', AUTH0_DOMAIN: 'latchkey-test.eu.auth0.com', AUTH_AUDIENCE: '', API_BASE_URL: '', HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
    const doctor = await cli(['doctor'], auth0);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/✗ Discovery/);
    expect(doctor.stdout).toMatch(/✗ Redirect URI/);
    // stderr carries one line per problem, and the line has to say what the problem is.
    expect(doctor.stderr).toMatch(/^Redirect URI: .*, but Auth0 matches callback URLs exactly, port included$/m);
    expect(doctor.stdout).toContain('set AUTH_REDIRECT_PORT=53682 and register Allowed Callback URLs: http://127.0.0.1:53682/callback');
    // Auth0 has a rotation grace period: the one window persist-first cannot close (a crash before the keychain write).
    expect(doctor.stdout).toMatch(/^! Rotation grace period: .*\n {4}fix: .*Rotation Overlap Period/m);
    const port = await freePort();
    const fixedPort = await cli(['doctor'], { ...auth0, AUTH_REDIRECT_PORT: String(port) });
    expect(fixedPort.stdout).toContain(`✓ Redirect URI: http://127.0.0.1:${port}/callback — register at the provider: Allowed Callback URLs: http://127.0.0.1:${port}/callback`);
  });

  it('a session revoked at the provider ends: exit 1 and the keychain entry is gone', async () => {
    const stored = (await storedRefreshToken())!;
    await withProvider((provider) => provider.revoke(stored));
    const result = await cli(['token', '--refresh']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/session ended/i);
    expect(await storedRefreshToken()).toBeNull();
    expect((await cli(['status'])).code).toBe(1);
  });

  it('a sign-in over a stored session (the same user: it renews that account) revokes the replaced refresh token at the provider before the process exits', async () => {
    expect((await cli(['login'])).code).toBe(0);
    const replaced = (await storedRefreshToken())!;
    const again = await cli(['login']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^Signed in as Alice Liddell /);
    expect(await storedRefreshToken()).not.toBe(replaced);
    const replacedKey = await withKey(replaced);
    await withProvider((provider) => expect(provider.refresh(replaced, replacedKey)).rejects.toMatchObject({ code: 'session_ended' }));
  });

  it('logout revokes at the provider and forgets the session', async () => {
    expect((await cli(['login'])).code).toBe(0);
    const stored = (await storedRefreshToken())!;
    const logout = await cli(['logout']);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toMatch(/^Signed out\./);
    expect(await storedRefreshToken()).toBeNull();
    expect((await cli(['status'])).code).toBe(1);
    const storedKey = await withKey(stored);
    await withProvider((provider) => expect(provider.refresh(stored, storedKey)).rejects.toMatchObject({ code: 'session_ended' }));
  });

  it('without a Secret Service: memory-only with a message, and login refuses before opening a browser', async () => {
    const noKeychain = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', BROWSER: '/bin/false' };
    const status = await cli(['status', '--json'], noKeychain);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: false, keychain: 'memory-only', error: { code: 'keychain_unavailable' } });
    expect(status.stderr).toMatch(/^No OS keychain answers here and no agent is set \(LATCHKEY_AGENT_SOCK\), so no session can be kept\. Keep sessions one of three ways: .*\n$/);
    const plainStatus = await cli(['status'], noKeychain);
    expect(plainStatus.code).toBe(1);
    expect(plainStatus.stdout).not.toContain('latchkey login');
    const login = await cli(['login'], noKeychain);
    expect(login.code).toBe(2);
    expect(login.stderr).toMatch(/keychain/i);
    // A stored session is out of reach, not absent: "not signed in" would send the user to that same refused login.
    for (const command of ['token', 'logout']) {
      const result = await cli([command], noKeychain);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^No OS keychain answers here and no agent is set \(LATCHKEY_AGENT_SOCK\), so a stored session cannot be read.*\n$/);
    }
  });

  it('an unusable data folder is a configuration error naming AUTH_DATA_DIR (exit 2), and doctor says so', async () => {
    const notAFolder = join(dataDir, 'not-a-folder');
    await writeFile(notAFolder, '');
    const status = await cli(['status'], { AUTH_DATA_DIR: notAFolder });
    expect(status.code, status.stderr).toBe(2);
    expect(status.stderr).toMatch(/^The data folder .* cannot be used \(.*\)\. Set AUTH_DATA_DIR to a folder you can write to\.\n$/);
    const doctor = await cli(['doctor'], { AUTH_DATA_DIR: notAFolder });
    expect(doctor.code).toBe(2);
    expect(doctor.stdout).toMatch(/✗ Data folder: .* cannot be used/);
    expect((await cli(['doctor'])).stdout).toContain(`✓ Data folder: ${dataDir}`);
  });

  it('runs as `npm run --silent cli -- status --json` and through the bin shim', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'cli', '--', 'status', '--json'], { cwd: root, env: env() }).catch(
      (error: { stdout: string }) => error,
    );
    expect(JSON.parse(stdout)).toMatchObject({ signedIn: false, issuer: config().issuer });
    const bin = await new Promise<number | null>((resolve) => spawn(process.execPath, [join(root, 'bin/latchkey.js'), '--help'], { cwd: root }).on('close', resolve));
    expect(bin).toBe(0);
  });

  it('no token the provider issued, rotated ones included, appears in the data folder, the compile cache or any output', async () => {
    expect(secrets.size).toBeGreaterThan(5);
    const issued = [...issuedSecrets()];
    // Every refresh rotated a token the keychain held only briefly: the provider saw tokens this test never read.
    expect(issued.filter((token) => !secrets.has(token)).length).toBeGreaterThan(3);
    expect(outputs.map((output) => output.text).join('\n')).toMatch(/access token refreshed/);
    // `token` prints an access token on purpose: an output that is exactly one is the command's answer, not a leak.
    // `headers` prints the credentials of one call on purpose too: the token and a one-time proof.
    const tokenFreeOutputs = outputs.filter((output) => !JWT.test(output.text.trim()) && !/^stdout of latchkey headers /.test(output.name));
    const places = [...(await readFolders(dataDir)), ...tokenFreeOutputs];
    expect(places.some((place) => place.name.endsWith('profile.json'))).toBe(true);
    // The CLI's compile cache (demoCliEnv puts the user's cache folder in the data folder) is scanned too: it holds compiled code only.
    expect(places.some((place) => place.name.startsWith(compileCacheDir(env())))).toBe(true);
    expect(findLeaks([...secrets, ...issued], places)).toEqual([]);
  });
});
