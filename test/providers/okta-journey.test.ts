// The CLI's whole journey against a stand-in of Okta (standins/okta.ts): AUTH_PROVIDER=okta, an exact
// sign-in redirect URI on a fixed port, offline_access without a consent prompt, rotation, and Okta's
// 400 invalid_grant for a dead token.
import { expect, it } from 'vitest';
import { describeCliJourney } from '../interop/cli-journey.ts';
import { freePort } from '../helpers/demo.ts';
import { startOktaStandin } from './standins/okta.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM, itEndsTheSessionOnTheDeadTokenAnswer, journeyUser } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

if (!HAVE_CHROMIUM) {
  it.skip('Okta stand-in journey: skipped, Chromium is not installed', () => {});
} else {
  let standin: Standin;
  describeCliJourney(
    'the CLI against an Okta stand-in (AUTH_PROVIDER=okta)',
    async () => {
      const port = await freePort();
      standin = await startOktaStandin({ clientId: '0oaStandInNative', redirectUri: `http://127.0.0.1:${port}/callback`, users: [ALICE] });
      return {
        env: { AUTH_PROVIDER: 'okta', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: '0oaStandInNative', AUTH_REDIRECT_PORT: String(port) },
        browser: BROWSER,
        user: journeyUser(ALICE),
        accessTokenWorks: (token) => standin.accessTokenWorks(token),
        reuseSeen: () => standin.reuseSeen(),
        doctorSays: [/^✓ Provider preset: Okta/m, /^✓ Public client: /m],
        logoutSays: /^$/,
        stop: () => standin.stop(),
      };
    },
    (journey) => {
      it('asked for offline_access without prompt=consent', () => {
        const signIns = standin.authorizationRequests.filter((query) => query.get('code_challenge'));
        expect(signIns.length).toBeGreaterThan(0);
        for (const query of signIns) {
          expect(query.get('scope')?.split(' ')).toContain('offline_access');
          expect(query.has('prompt')).toBe(false);
        }
      });
      itEndsTheSessionOnTheDeadTokenAnswer(journey, () => standin, 'Your session ended at the provider: it refused the refresh (invalid_grant — The refresh token is invalid or expired). Sign in again.');
    },
  );
}
