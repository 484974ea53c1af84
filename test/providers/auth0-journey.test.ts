// The CLI's whole journey against a stand-in of Auth0 (standins/auth0.ts): AUTH_PROVIDER=auth0, a
// fixed callback port (Auth0 matches callback URLs exactly), rotation, and Auth0's 403 for a dead token.
import { it } from 'vitest';
import { describeCliJourney } from '../interop/cli-journey.ts';
import { freePort } from '../helpers/demo.ts';
import { startAuth0Standin } from './standins/auth0.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM, itEndsTheSessionOnTheDeadTokenAnswer, journeyUser } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

if (!HAVE_CHROMIUM) {
  it.skip('Auth0 stand-in journey: skipped, Chromium is not installed', () => {});
} else {
  let standin: Standin;
  describeCliJourney(
    'the CLI against an Auth0 stand-in (AUTH_PROVIDER=auth0)',
    async () => {
      const port = await freePort();
      standin = await startAuth0Standin({ clientId: 'auth0-native-client', callbackUrl: `http://127.0.0.1:${port}/callback`, users: [ALICE] });
      return {
        env: { AUTH_PROVIDER: 'auth0', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'auth0-native-client', AUTH_REDIRECT_PORT: String(port) },
        browser: BROWSER,
        user: journeyUser(ALICE),
        accessTokenWorks: (token) => standin.accessTokenWorks(token),
        reuseSeen: () => standin.reuseSeen(),
        doctorSays: [/^✓ Provider preset: Auth0/m, /^! Rotation grace period: /m],
        logoutSays: /^$/,
        stop: () => standin.stop(),
      };
    },
    (journey) => {
      itEndsTheSessionOnTheDeadTokenAnswer(journey, () => standin, 'Your session ended at the provider: it refused the refresh (invalid_grant — Unknown or invalid refresh token). Sign in again.');
    },
  );
}
