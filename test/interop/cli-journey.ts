// The whole journey a user takes with the `latchkey` CLI, as real processes
// against one provider: doctor, login through Chromium ($BROWSER), status,
// token, forced refreshes with rotation checked, a fresh process, concurrent
// refreshes with no reuse seen at the provider, logout, status. Each interop
// test file describes its provider and calls describeCliJourney; the provider
// stand-ins call it through test/providers/journey.ts.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { runCli } from '../helpers/cli.ts';
import { parseHeaderLines } from '../helpers/api-call.ts';
import { entrySecrets, findLeaks, readFolders, type Captured } from '../helpers/leaks.ts';

/** The Chromium the journeys' $BROWSER drives (support/browser-command.ts): without it they are skipped, saying so. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One provider under test, as the journey needs it. */
export interface ProviderUnderTest {
  /** AUTH_ISSUER, AUTH_CLIENT_ID and whatever else this provider needs (AUTH_REDIRECT_PORT, AUTH_AUDIENCE, …). */
  env: Record<string, string>;
  /** $BROWSER: a command that signs in on this provider's pages. */
  browser: string;
  user: { login: string; password: string; name: string; email: string };
  /** Whether an access token works where it is meant to (the API, or UserInfo), sent as its holder would (a DPoP proof with the session's stored key when bound). */
  accessTokenWorks(token: string, entry: { service: string; account: string }): Promise<boolean>;
  /** A URL under API_BASE_URL that answers 200 to a signed-in GET; absent for stand-ins with no API of their own (the headers step then skips, saying so). */
  apiCallUrl?: string;
  /** True when this provider binds tokens with DPoP (the session then stores a key); default false. */
  bindsTokens?: boolean;
  /** The provider's own view: true when it saw a refresh token redeemed twice. */
  reuseSeen(): boolean;
  /** False for providers that keep the same refresh token on a refresh (Google, Cognito by default); default true. */
  rotates?: boolean;
  /** doctor's lines that must be there (warnings this provider is known for). */
  doctorSays: RegExp[];
  /** What `logout` prints on stderr: '' when the provider revoked, else the honest sentence. */
  logoutSays: RegExp;
  stop(): Promise<void>;
}

export interface Journey {
  cli(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** The session's keychain entry as stored, or null. */
  storedEntry(): Promise<Record<string, unknown> | null>;
  storedRefreshToken(): Promise<string | null>;
  provider(): ProviderUnderTest;
  /**
   * Where any secret seen so far — `also`, the tokens `token` and `headers` printed, the secrets of
   * the entry as read, the client secret — appears in the data folder or in any other output.
   */
  leaks(also?: string[]): Promise<string[]>;
}

/**
 * Declares the journey's steps as `it`s, run in order against the provider
 * `start` returns, with a private keychain service and data folder. `extra`
 * adds provider-specific steps after the journey, with the same helpers.
 */
export function describeCliJourney(title: string, start: () => Promise<ProviderUnderTest>, extra?: (journey: Journey) => void): void {
  describe(title, () => {
    const { journey, service, account, secrets, outputs } = setUpJourney(start);
    const { cli } = journey;
    let provider: ProviderUnderTest;
    beforeAll(() => {
      provider = journey.provider();
    });

    it('doctor passes, with this provider’s known warnings only', async () => {
      const doctor = await cli(['doctor']);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).not.toMatch(/^✗/m);
      expect(doctor.stdout).toMatch(/^✓ Redirect URI accepted: /m);
      for (const line of provider.doctorSays) expect(doctor.stdout).toMatch(line);
    });

    it('login signs in through the browser; status shows the user’s name and email', async () => {
      const login = await cli(['login', '--timeout', '60']);
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toMatch(new RegExp(`^Signed in as ${provider.user.name} \\(.+\\)\\n$`));
      const status = await cli(['status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: true, keychain: 'os', user: { name: provider.user.name, email: provider.user.email } });
    });

    it('token prints an access token that works', async () => {
      const token = await cli(['token']);
      expect(token.code, token.stderr).toBe(0);
      expect(await provider.accessTokenWorks(token.stdout.trim(), { service, account: account() })).toBe(true);
    });

    it('`headers` prints what one API call needs, so curl -H @<(latchkey headers URL) URL works: a DPoP proof when the provider binds tokens', async (context) => {
      const url = provider.apiCallUrl;
      if (url === undefined) return context.skip('this provider stand-in has no API of its own to call');
      const printed = await cli(['headers', url]);
      expect(printed.code, printed.stderr).toBe(0);
      const headers = parseHeaderLines(printed.stdout);
      expect(Object.keys(headers).sort()).toEqual(provider.bindsTokens ? ['Authorization', 'DPoP'] : ['Authorization']);
      expect(headers.Authorization).toMatch(provider.bindsTokens ? /^DPoP \S+$/ : /^Bearer \S+$/);
      const curl = await curlWithHeaderFile(printed.stdout, url);
      expect(curl.status).toBe(200);
    });

    it('two forced refreshes each get a new access token and rotate the stored refresh token (or keep it, where the provider does not rotate)', async () => {
      let refreshToken = await journey.storedRefreshToken();
      let accessToken = (await cli(['token'])).stdout.trim();
      for (let round = 0; round < 2; round += 1) {
        const refreshed = await cli(['token', '--refresh']);
        expect(refreshed.code, refreshed.stderr).toBe(0);
        const next = refreshed.stdout.trim();
        expect(next).not.toBe(accessToken);
        expect(await provider.accessTokenWorks(next, { service, account: account() })).toBe(true);
        const rotated = await journey.storedRefreshToken();
        expect(rotated).toEqual(expect.any(String));
        if (provider.rotates === false) expect(rotated).toBe(refreshToken);
        else expect(rotated).not.toBe(refreshToken);
        [accessToken, refreshToken] = [next, rotated];
      }
    });

    it('a fresh process is still signed in', async () => {
      const status = await cli(['status']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(`Signed in as ${provider.user.name}`);
      const token = await cli(['token']);
      expect(token.code, token.stderr).toBe(0);
      expect(await provider.accessTokenWorks(token.stdout.trim(), { service, account: account() })).toBe(true);
    });

    it('four concurrent `token --refresh` processes all get working tokens, and the provider sees no reuse', async () => {
      // Debug logs on, so the leak check below also covers what the refresh path logs.
      const results = await Promise.all([1, 2, 3, 4].map(() => cli(['token', '--refresh'], { LATCHKEY_LOG_LEVEL: 'debug' })));
      for (const result of results) {
        expect(result.code, result.stderr).toBe(0);
        expect(await provider.accessTokenWorks(result.stdout.trim(), { service, account: account() })).toBe(true);
      }
      expect(provider.reuseSeen()).toBe(false);
      const after = await cli(['token', '--refresh']);
      expect(after.code, after.stderr).toBe(0);
      expect(provider.reuseSeen()).toBe(false);
    });

    it('logout signs out and says honestly what the provider was told; status then exits 1', async () => {
      const logout = await cli(['logout']);
      expect(logout.code, logout.stderr).toBe(0);
      expect(logout.stdout).toMatch(/^Signed out\.\n/);
      expect(logout.stderr.trim()).toMatch(provider.logoutSays);
      expect(logout.stderr).not.toMatch(/try again/);
      expect(await journey.storedRefreshToken()).toBeNull();
      const status = await cli(['status']);
      expect(status.code).toBe(1);
    });

    it('no token appears in the data folder or in any output', async () => {
      // Fewer distinct access tokens than calls: processes share the one in the keychain while it is fresh.
      expect(secrets.size).toBeGreaterThan(5);
      expect(outputs.map((output) => output.text).join('\n')).toMatch(/refreshed/);
      expect(await journey.leaks()).toEqual([]);
    });

    extra?.(journey);
  });
}

/**
 * The `latchkey` CLI against the provider `start` returns, inside the current `describe`: a private
 * keychain service and data folder, made before its steps and removed after them, and every output
 * kept for the leak check. For journeys of their own (a provider without refresh tokens).
 */
export function useCliJourney(start: () => Promise<ProviderUnderTest>): Journey {
  return setUpJourney(start).journey;
}

function setUpJourney(start: () => Promise<ProviderUnderTest>) {
  let provider: ProviderUnderTest;
  let dataDir: string;
  const service = `latchkey-test-interop-${randomUUID()}`;
  const outputs: Captured[] = [];
  const secrets = new Set<string>();

  const env = (extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    AUTH_KEYCHAIN_SERVICE: service,
    AUTH_DATA_DIR: dataDir,
    BROWSER: provider.browser,
    LATCHKEY_TEST_LOGIN: provider.user.login,
    LATCHKEY_TEST_PASSWORD: provider.user.password,
    ...provider.env,
    ...extraEnv,
  });
  const account = () => keychainAccount(loadConfig({ env: env() }));

  const journey: Journey = {
    provider: () => provider,
    cli: (args, extraEnv) =>
      runCli(args, env(extraEnv), (command, { code, stdout, stderr }) => {
        // `token` prints an access token on purpose: that answer is a secret to look for elsewhere, not a leak.
        if (args[0] === 'token' && code === 0) secrets.add(stdout.trim());
        // `headers` prints the credentials of one call on purpose (the token and a one-time proof): secrets too.
        else if (args[0] === 'headers' && code === 0) for (const value of Object.values(parseHeaderLines(stdout))) secrets.add(value.replace(/^(Bearer|DPoP) /, ''));
        else outputs.push({ name: `stdout of ${command}`, text: stdout });
        outputs.push({ name: `stderr of ${command}`, text: stderr });
      }),
    async storedEntry() {
      const raw = await keytar.getPassword(service, account());
      for (const secret of entrySecrets(raw)) secrets.add(secret);
      return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
    },
    async storedRefreshToken() {
      const entry = await journey.storedEntry();
      return entry === null ? null : (entry.refresh_token as string);
    },
    leaks: async (also = []) => findLeaks(new Set([...secrets, ...also]), [...(await readFolders(dataDir)), ...outputs]),
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-interop-'));
    provider = await start();
    // A client secret the provider insists on must never show up either.
    if (provider.env.AUTH_CLIENT_SECRET) secrets.add(provider.env.AUTH_CLIENT_SECRET);
  });

  afterAll(async () => {
    if (provider) await keytar.deletePassword(service, account()).catch(() => false);
    await provider?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  return { journey, service, account, secrets, outputs };
}

/** What `curl -H @<(latchkey headers URL) URL` does: the printed lines as the request's headers. */
async function curlWithHeaderFile(printed: string, url: string): Promise<{ status: number }> {
  const { execFile } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const folder = await mkdtemp(join(tmpdir(), 'latchkey-curl-'));
  const file = join(folder, 'headers');
  try {
    await writeFile(file, printed, { mode: 0o600 });
    const status = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `@${file}`, url], (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    return { status: Number(status) };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
