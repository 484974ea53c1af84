// The CLI's whole journey against a stand-in of GitHub with a GitHub App (standins/github.ts):
// AUTH_PROVIDER=github pointed at the stand-in by its endpoints alone (no discovery, no ID token),
// the app's secret, the profile from /user, rotation on every refresh, revocation by DELETE with
// Basic, and GitHub's HTTP 200 bad_refresh_token for a dead token.
import { expect, it } from 'vitest';
import { describeCliJourney } from '../interop/cli-journey.ts';
import { startGithubStandin } from './standins/github.ts';
import { ALICE, BROWSER, HAVE_CHROMIUM, itEndsTheSessionOnTheDeadTokenAnswer, journeyUser } from './journey-steps.ts';
import type { Standin } from './standins/standin.ts';

const SECRET = 'standin-github-app-secret';
const OCTOCAT = { ...ALICE, login: 'octocat', sub: '583231', name: 'The Octocat', email: 'octocat@github.com' };

if (!HAVE_CHROMIUM) {
  it.skip('GitHub stand-in journey: skipped, Chromium is not installed', () => {});
} else {
  let standin: Standin;
  describeCliJourney(
    'the CLI against a GitHub App stand-in (AUTH_PROVIDER=github, endpoints only)',
    async () => {
      standin = await startGithubStandin({ clientId: 'Iv23liStandIn', clientSecret: SECRET, users: [OCTOCAT] });
      return {
        env: {
          AUTH_PROVIDER: 'github',
          AUTH_ISSUER: standin.issuer,
          AUTH_CLIENT_ID: 'Iv23liStandIn',
          AUTH_CLIENT_SECRET: SECRET,
          AUTH_AUTHORIZATION_ENDPOINT: `${standin.origin}/login/oauth/authorize`,
          AUTH_TOKEN_ENDPOINT: `${standin.origin}/login/oauth/access_token`,
          AUTH_USERINFO_ENDPOINT: `${standin.origin}/user`,
          AUTH_REVOCATION_ENDPOINT: `${standin.origin}/applications/{client_id}/token`,
        },
        browser: BROWSER,
        user: journeyUser(OCTOCAT),
        accessTokenWorks: (token) => standin.accessTokenWorks(token),
        reuseSeen: () => standin.reuseSeen(),
        doctorSays: [/^✓ Provider preset: GitHub/m, /^✓ Endpoints: /m],
        logoutSays: /^$/,
        stop: () => standin.stop(),
      };
    },
    (journey) => {
      it('signed in with the profile from /user (sub is the account id) and revoked through DELETE with the app’s credentials', async () => {
        expect(standin.revocations).toBeGreaterThan(0);
        const login = await journey.cli(['login', '--timeout', '60']);
        expect(login.stdout).toBe(`Signed in as The Octocat (583231)\n`);
      });
      itEndsTheSessionOnTheDeadTokenAnswer(
        journey,
        () => standin,
        'Your session ended at the provider: it refused the refresh (bad_refresh_token — The refresh token passed is incorrect or expired; that is, the refresh token is expired, revoked or already used). Sign in again.',
      );
    },
  );
}
