// A sign-in that brings no refresh token and an access token that expires cannot be kept: only a
// long-lived access token (no expires_in, a GitHub OAuth App) may stand in for a refresh token. Against
// the Google stand-in (standins/google.ts): as Google documents, a refresh token comes with the first
// consent only, so a second sign-in without prompt=consent (AUTH_PROMPT=omit) brings none.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startGoogleStandin } from './standins/google.ts';
import { ALICE } from './standins/standin.ts';

const SECRET = 'standin-google-secret';

describeStandinJourney({
  title: 'a sign-in without a refresh token whose access token expires (Google stand-in, second consent without prompt=consent)',
  start: () => startGoogleStandin({ clientId: 'standin.apps.googleusercontent.com', clientSecret: SECRET, users: [ALICE] }),
  env: (standin) => ({ AUTH_PROVIDER: 'google', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'standin.apps.googleusercontent.com', AUTH_CLIENT_SECRET: SECRET, AUTH_PROMPT: 'omit' }),
  wholeJourney: false,
  steps: ({ cli, storedEntry }) => {
    it('is refused, saying the provider issued no refresh token; the session signed in before stays as stored', async () => {
      const first = await cli(['login', '--timeout', '60']);
      expect(first.code, first.stderr).toBe(0);
      const stored = await storedEntry();
      expect(stored).toMatchObject({ refresh_token: expect.any(String) });
      const second = await cli(['login', '--timeout', '60']);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain('The provider signed you in but issued no refresh token, so the session cannot be kept.');
      expect(await storedEntry()).toEqual(stored);
      expect((await cli(['status', '--json'])).stdout).toContain('"standsOn":"refresh_token"');
    });
  },
});
