// Tokens for every API from one sign-in (issue 29): the demo's two APIs, each with its own audience
// (the stock oidc-provider resource indicators feature), real CLI processes, the real keychain.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID, DEMO_FILES_PATH, DEMO_FILES_RESOURCE } from '../../src/shared/constants.ts';
import { parseHeaderLines, statusWithToken } from '../helpers/api-call.ts';
import { FAKE_BROWSER, JWT, runCli, type CliResult } from '../helpers/cli.ts';
import { forgetSessionEntries, startTestDemo } from '../helpers/demo.ts';
import { entrySecrets, findLeaks, readFolders } from '../helpers/leaks.ts';

const audienceOf = (token: string): unknown => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud?: unknown }).aud;

describe('tokens for every API from one sign-in', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let configFile: string;
  const service = `latchkey-test-apis-${randomUUID()}`;
  const outputs: CliResult[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-apis-'));
    demo = await startTestDemo({ accessTokenTtl: 600 });
    configFile = join(dataDir, 'apis.json');
    await writeFile(
      configFile,
      JSON.stringify({
        issuer: demo.issuer,
        clientId: DEMO_CLIENT_ID,
        apis: [
          { name: 'demo', baseUrl: `${demo.apiUrl}/`, audience: DEMO_AUDIENCE },
          { name: 'files', baseUrl: `${demo.apiUrl}${DEMO_FILES_PATH}`, resource: DEMO_FILES_RESOURCE },
        ],
      }),
    );
    expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
  });

  afterAll(async () => {
    const account = keychainAccount(loadConfig({ env: env() }));
    await keytar.deletePassword(service, `${account}#access-token@files`).catch(() => false);
    await forgetSessionEntries(service, account);
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ ...process.env, AUTH_CONFIG: configFile, AUTH_KEYCHAIN_SERVICE: service, AUTH_DATA_DIR: dataDir, BROWSER: FAKE_BROWSER, AUTH_ISSUER: '', API_BASE_URL: '', AUTH_AUDIENCE: '' });
  const cli = async (args: string[]) => {
    const result = await runCli(args, env());
    outputs.push(result);
    return result;
  };
  const entry = () => ({ service, account: keychainAccount(loadConfig({ env: env() })) });
  const tokenOf = async (args: string[]) => {
    const result = await cli(['token', ...args]);
    expect(result.code, result.stderr).toBe(0);
    const token = result.stdout.trim();
    expect(token).toMatch(JWT);
    return token;
  };

  it('one sign-in, two tokens with the right aud each, each accepted by its API and refused by the other', async () => {
    const first = await tokenOf([]);
    const files = await tokenOf(['--api', 'files']);
    expect(audienceOf(first)).toBe(DEMO_AUDIENCE);
    expect(audienceOf(files)).toBe(DEMO_FILES_RESOURCE);
    expect(await statusWithToken(`${demo.apiUrl}/me`, first, entry())).toBe(200);
    expect(await statusWithToken(`${demo.apiUrl}${DEMO_FILES_PATH}me`, files, entry())).toBe(200);
    expect(await statusWithToken(`${demo.apiUrl}/me`, files, entry())).toBe(401);
    expect(await statusWithToken(`${demo.apiUrl}${DEMO_FILES_PATH}me`, first, entry())).toBe(401);
    // Shared with every process while fresh, as the first API's is: a second process asks the provider for nothing.
    const before = demo.stats.tokenRequests;
    expect(await tokenOf(['--api', 'files'])).toBe(files);
    expect(demo.stats.tokenRequests).toBe(before);
  });

  it('headers for a URL of each API carry that API\'s token (the longest base URL wins); a URL under none is refused', async () => {
    for (const [path, audience] of [['/me', DEMO_AUDIENCE], [`${DEMO_FILES_PATH}me`, DEMO_FILES_RESOURCE]] as const) {
      const url = `${demo.apiUrl}${path}`;
      const result = await cli(['headers', url]);
      expect(result.code, result.stderr).toBe(0);
      const headers = parseHeaderLines(result.stdout);
      expect(audienceOf(headers.Authorization!.split(' ')[1]!)).toBe(audience);
      expect((await fetch(url, { headers })).status).toBe(200);
    }
    const outside = await cli(['headers', 'https://elsewhere.example.com/me']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/only for the configured APIs \(demo: .*, files: .*\/files\/\)/);
    const unknown = await cli(['token', '--api', 'mail']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No API is named "mail"\. The configured APIs are demo, files\./);
  });

  it('status --json lists the APIs and when each token expires', async () => {
    const result = await cli(['status', '--json']);
    const report = JSON.parse(result.stdout) as { apis: Array<{ name: string; baseUrl: string; expiresAt: string | null }> };
    expect(report.apis.map((api) => api.name)).toEqual(['demo', 'files']);
    for (const api of report.apis) expect(Date.parse(api.expiresAt ?? '')).toBeGreaterThan(Date.now());
  });

  it('both refreshed from the one refresh token under rotation, with no reuse, while 4 processes ask for each at once', async () => {
    const storedRefreshToken = async () => (JSON.parse((await keytar.getPassword(service, entry().account)) ?? '{}') as { refresh_token?: string }).refresh_token;
    const before = await storedRefreshToken();
    const refreshesBefore = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;
    const tokens = await Promise.all([...Array.from({ length: 4 }, () => tokenOf(['--refresh'])), ...Array.from({ length: 4 }, () => tokenOf(['--refresh', '--api', 'files']))]);
    expect(tokens.slice(0, 4).map(audienceOf)).toEqual(Array(4).fill(DEMO_AUDIENCE));
    expect(tokens.slice(4).map(audienceOf)).toEqual(Array(4).fill(DEMO_FILES_RESOURCE));
    expect(demo.stats.reuseDetected).toBe(0);
    expect((demo.stats.tokenRequestsByGrant.refresh_token ?? 0) - refreshesBefore).toBeGreaterThanOrEqual(2);
    expect(await storedRefreshToken()).not.toBe(before);
    // The stored refresh token is the live one: a fresh refresh for each API still works.
    expect(audienceOf(await tokenOf(['--refresh', '--api', 'files']))).toBe(DEMO_FILES_RESOURCE);
    expect(audienceOf(await tokenOf(['--refresh']))).toBe(DEMO_AUDIENCE);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('no token, refresh token or key reaches the output or the data folder', async () => {
    const secrets = entrySecrets(await keytar.getPassword(service, entry().account));
    const printedTokens = outputs.flatMap((output) => (JWT.test(output.stdout.trim()) ? [output.stdout.trim()] : []));
    const stderr = outputs.map((output, index) => ({ name: `stderr ${index}`, text: output.stderr }));
    expect(findLeaks([...secrets, ...printedTokens], [...stderr, ...(await readFolders(dataDir)).filter((file) => file.name !== configFile)])).toEqual([]);
  });
});
