// A stronger sign-in when an API asks for one (RFC 9470), from the command line: the demo API's step-up
// route answers 401 insufficient_user_authentication; `latchkey step-up` turns that challenge into a browser
// sign-in with acr_values and max_age for the same account, and the retried call succeeds. Real CLI
// processes, the demo provider, Chromium, the OS keychain.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { DEMO_ACR_PASSWORD, DEMO_ACR_TWO_STEP, DEMO_STEP_UP_MAX_AGE, DEMO_STEP_UP_PATH } from '../../src/shared/constants.ts';
import { credentialsFor, storedDpopKey } from '../helpers/api-call.ts';
import { demoCliEnv, FAKE_BROWSER, JWT, runCli } from '../helpers/cli.ts';
import { forgetSessionEntries, startTestDemo } from '../helpers/demo.ts';

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub?: string; acr?: string; auth_time?: number };

describe('a stronger sign-in when an API asks for one, from the command line', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let urlsFile: string;
  let browser: string;
  const service = `latchkey-test-step-up-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-step-up-'));
    demo = await startTestDemo({ accessTokenTtl: 600 });
    // The stand-in browser, noting each sign-in URL it is asked to open.
    urlsFile = join(dataDir, 'urls.txt');
    browser = join(dataDir, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urlsFile}'\nexec ${FAKE_BROWSER} "$1"\n`);
    await chmod(browser, 0o700);
    expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
  });

  afterAll(async () => {
    await forgetSessionEntries(service, keychainAccount(loadConfig({ env: env() })));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, { BROWSER: browser, ...extra });
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, env(extra));
  const account = () => keychainAccount(loadConfig({ env: env() }));
  const storedRefreshToken = async () => (JSON.parse((await keytar.getPassword(service, account())) ?? '{}') as { refresh_token?: string }).refresh_token;
  const lastUrl = async () => new URL((await readFile(urlsFile, 'utf8')).trim().split('\n').at(-1)!);
  const token = async () => {
    const result = await cli(['token']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(JWT);
    return result.stdout.trim();
  };
  /** GET the step-up route with `token`, as its holder would (a DPoP proof from the session's key). */
  const callStrong = async (accessToken: string) => {
    const url = `${demo.apiUrl}${DEMO_STEP_UP_PATH}`;
    return fetch(url, { headers: await credentialsFor(accessToken, url, await storedDpopKey(service, account())) });
  };

  it('the step-up route asks for the two-step sign-in with RFC 9470\'s challenge', async () => {
    const first = await token();
    expect(claimsOf(first).acr).toBe(DEMO_ACR_PASSWORD);
    const refused = await callStrong(first);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(new RegExp(`error="insufficient_user_authentication".*acr_values="${DEMO_ACR_TWO_STEP}", max_age=${DEMO_STEP_UP_MAX_AGE}`));
  });

  it('latchkey step-up CHALLENGE signs the same account in with acr_values and max_age; the new token\'s acr is the one asked for and the retried call succeeds', async () => {
    const challenge = (await callStrong(await token())).headers.get('www-authenticate')!;
    const result = await cli(['step-up', challenge, '--timeout', '60']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/The API asks for a stronger sign-in: This action needs the two-step sign-in/);
    expect(result.stdout).toContain(`Signed in with ${DEMO_ACR_TWO_STEP}.`);
    const url = await lastUrl();
    expect(url.searchParams.get('acr_values')).toBe(DEMO_ACR_TWO_STEP);
    expect(url.searchParams.get('max_age')).toBe(String(DEMO_STEP_UP_MAX_AGE));
    expect(url.searchParams.get('prompt')?.split(' ')).toContain('login');
    const stronger = await token();
    expect(claimsOf(stronger)).toMatchObject({ sub: 'alice', acr: DEMO_ACR_TWO_STEP });
    expect((await callStrong(stronger)).status).toBe(200);
    // Recorded with the shared token, and kept by later refreshes (the provider carries the sign-in's acr).
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { signedInWith?: { acr?: string } };
    expect(status.signedInWith?.acr).toBe(DEMO_ACR_TWO_STEP);
    const refreshed = await cli(['token', '--refresh']);
    expect(claimsOf(refreshed.stdout.trim()).acr).toBe(DEMO_ACR_TWO_STEP);
  });

  it('a step-up sign-in that comes back as another user is refused and changes nothing', async () => {
    const before = await storedRefreshToken();
    const result = await cli(['login', '--acr', DEMO_ACR_TWO_STEP, '--max-age', '60', '--timeout', '60'], { LATCHKEY_TEST_LOGIN: 'bob', LATCHKEY_TEST_PASSWORD: 'builder', LATCHKEY_TEST_ONE_TIME_CODE: '135790' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/You signed in at the provider as .*bob.*nothing was changed/i);
    const url = await lastUrl();
    expect(url.searchParams.get('acr_values')).toBe(DEMO_ACR_TWO_STEP);
    expect(url.searchParams.get('max_age')).toBe('60');
    expect(await storedRefreshToken()).toBe(before);
    expect(claimsOf(await token()).sub).toBe('alice');
  });

  it('refuses what is not a step-up challenge, saying what it needs instead', async () => {
    const result = await cli(['step-up', 'Bearer error="invalid_token", error_description="The access token expired"']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/asks for no stronger sign-in/);
  });
});
