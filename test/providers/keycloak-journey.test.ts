// The CLI's whole journey against a stand-in of Keycloak (standins/keycloak.ts): AUTH_PROVIDER=keycloak,
// a loopback redirect URI registered without a port (any port), `iss` in the authorization response
// (RFC 9207), single-use refresh tokens, and Keycloak's "Session not active" for an ended session.
import { it } from 'vitest';
import { describeCliJourney } from '../interop/cli-journey.ts';
import { startKeycloakStandin } from './standins/keycloak.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM, itEndsTheSessionOnTheDeadTokenAnswer, journeyUser } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

if (!HAVE_CHROMIUM) {
  it.skip('Keycloak stand-in journey: skipped, Chromium is not installed', () => {});
} else {
  let standin: Standin;
  describeCliJourney(
    'the CLI against a Keycloak stand-in (AUTH_PROVIDER=keycloak)',
    async () => {
      standin = await startKeycloakStandin({ clientId: 'latchkey-desktop', users: [ALICE] });
      return {
        env: { AUTH_PROVIDER: 'keycloak', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'latchkey-desktop' },
        browser: BROWSER,
        user: journeyUser(ALICE),
        accessTokenWorks: (token) => standin.accessTokenWorks(token),
        reuseSeen: () => standin.reuseSeen(),
        doctorSays: [/^✓ Provider preset: Keycloak/m, /^! Public client: /m],
        logoutSays: /^$/,
        stop: () => standin.stop(),
      };
    },
    (journey) => {
      itEndsTheSessionOnTheDeadTokenAnswer(journey, () => standin, 'Your session ended at the provider: it refused the refresh (invalid_grant — Session not active). Sign in again.');
    },
  );
}
