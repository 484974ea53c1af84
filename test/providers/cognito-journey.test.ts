// The CLI's whole journey against a stand-in of an Amazon Cognito user pool (standins/cognito.ts):
// AUTH_PROVIDER=cognito, an exact http://localhost callback on a fixed port, no offline_access, no
// rotation, Cognito's /logout, and its 400 invalid_grant for a revoked token.
import { expect, it } from 'vitest';
import { describeCliJourney } from '../interop/cli-journey.ts';
import { freePort } from '../helpers/demo.ts';
import { startCognitoStandin } from './standins/cognito.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM, itEndsTheSessionOnTheDeadTokenAnswer, journeyUser } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

if (!HAVE_CHROMIUM) {
  it.skip('Cognito stand-in journey: skipped, Chromium is not installed', () => {});
} else {
  let standin: Standin;
  const signOutUrl = 'https://app.example.com/signed-out';
  describeCliJourney(
    'the CLI against a Cognito stand-in (AUTH_PROVIDER=cognito)',
    async () => {
      const port = await freePort();
      standin = await startCognitoStandin({ clientId: 'cognito-public-client', callbackUrl: `http://localhost:${port}/callback`, users: [ALICE] });
      return {
        env: { AUTH_PROVIDER: 'cognito', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'cognito-public-client', AUTH_REDIRECT_PORT: String(port), AUTH_POST_LOGOUT_REDIRECT_URI: signOutUrl },
        browser: BROWSER,
        user: journeyUser(ALICE),
        rotates: false,
        accessTokenWorks: (token) => standin.accessTokenWorks(token),
        reuseSeen: () => standin.reuseSeen(),
        doctorSays: [/^✓ Provider preset: Amazon Cognito/m, /^✓ Redirect URI accepted: .*http:\/\/localhost:\d+\/callback/m],
        logoutSays: /^$/,
        stop: () => standin.stop(),
      };
    },
    (journey) => {
      it('logout offers Cognito’s own /logout with client_id and logout_uri, not RP-Initiated Logout', async () => {
        expect((await journey.cli(['login', '--timeout', '60'])).code).toBe(0);
        const logout = await journey.cli(['logout']);
        expect(logout.code, logout.stderr).toBe(0);
        const url = new URL(/open: (\S+)/.exec(logout.stdout)?.[1] ?? 'http://missing/');
        expect(url.origin + url.pathname).toBe(`${standin.origin}/logout`);
        expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'cognito-public-client', logout_uri: signOutUrl });
      });
      itEndsTheSessionOnTheDeadTokenAnswer(journey, () => standin, 'Your session ended at the provider: it refused the refresh (invalid_grant — Refresh Token has been revoked). Sign in again.');
    },
  );
}
