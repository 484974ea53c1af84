// A sign-in that brings no refresh token and an access token that expires cannot be kept: only a
// long-lived access token (no expires_in, a GitHub OAuth App) may stand in for a refresh token. Against
// the Google stand-in (standins/google.ts): as Google documents, a refresh token comes with the first
// consent only, so a second sign-in without prompt=consent (AUTH_PROMPT=omit) brings none.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { runCli } from '../helpers/cli.ts';
import { startGoogleStandin } from './standins/google.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

const SECRET = 'standin-google-secret';

if (!HAVE_CHROMIUM) {
  it.skip('no-refresh-token refusal: skipped, Chromium is not installed', () => {});
} else {
  describe('a sign-in without a refresh token whose access token expires (Google stand-in, second consent without prompt=consent)', () => {
    let standin: Standin;
    let dataDir: string;
    const service = `latchkey-test-no-refresh-${randomUUID()}`;
    const env = (): NodeJS.ProcessEnv => ({
      ...process.env,
      AUTH_KEYCHAIN_SERVICE: service,
      AUTH_DATA_DIR: dataDir,
      BROWSER,
      LATCHKEY_TEST_LOGIN: ALICE.login,
      LATCHKEY_TEST_PASSWORD: ALICE.password,
      AUTH_PROVIDER: 'google',
      AUTH_ISSUER: standin.issuer,
      AUTH_CLIENT_ID: 'standin.apps.googleusercontent.com',
      AUTH_CLIENT_SECRET: SECRET,
      AUTH_PROMPT: 'omit',
    });

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'latchkey-no-refresh-'));
      standin = await startGoogleStandin({ clientId: 'standin.apps.googleusercontent.com', clientSecret: SECRET, users: [ALICE] });
    });
    afterAll(async () => {
      await keytar.deletePassword(service, keychainAccount(loadConfig({ env: env() }))).catch(() => false);
      await standin?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('is refused, saying the provider issued no refresh token; the session signed in before stays as stored', async () => {
      const first = await runCli(['login', '--timeout', '60'], env());
      expect(first.code, first.stderr).toBe(0);
      const account = keychainAccount(loadConfig({ env: env() }));
      const stored = await keytar.getPassword(service, account);
      expect(JSON.parse(String(stored))).toMatchObject({ refresh_token: expect.any(String) });
      const second = await runCli(['login', '--timeout', '60'], env());
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('The provider signed you in but issued no refresh token, so the session cannot be kept.');
      expect(await keytar.getPassword(service, account)).toBe(stored);
      expect((await runCli(['status', '--json'], env())).stdout).toContain('"standsOn":"refresh_token"');
    });
  });
}
