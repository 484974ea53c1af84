// The CLI's whole journey against a stand-in of GitHub with a GitHub App (standins/github.ts):
// AUTH_PROVIDER=github pointed at the stand-in by its endpoints alone (no discovery, no ID token),
// the app's secret, the profile from /user, rotation on every refresh, revocation by DELETE with
// Basic, and GitHub's HTTP 200 bad_refresh_token for a dead token.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startGithubStandin } from './standins/github.ts';
import { ALICE } from './standins/standin.ts';

const SECRET = 'standin-github-app-secret';
const OCTOCAT = { ...ALICE, login: 'octocat', sub: '583231', name: 'The Octocat', email: 'octocat@github.com' };
const HUBOT = { ...ALICE, login: 'hubot', password: 'robot', sub: '480938', name: 'Hubot', email: 'hubot@github.com' };

describeStandinJourney({
  title: 'the CLI against a GitHub App stand-in (AUTH_PROVIDER=github, endpoints only)',
  start: () => startGithubStandin({ clientId: 'Iv23liStandIn', clientSecret: SECRET, users: [OCTOCAT, HUBOT] }),
  env: (standin) => ({
    AUTH_PROVIDER: 'github',
    AUTH_ISSUER: standin.issuer,
    AUTH_CLIENT_ID: 'Iv23liStandIn',
    AUTH_CLIENT_SECRET: SECRET,
    AUTH_AUTHORIZATION_ENDPOINT: `${standin.origin}/login/oauth/authorize`,
    AUTH_TOKEN_ENDPOINT: `${standin.origin}/login/oauth/access_token`,
    AUTH_USERINFO_ENDPOINT: `${standin.origin}/user`,
    AUTH_REVOCATION_ENDPOINT: `${standin.origin}/applications/{client_id}/token`,
  }),
  user: OCTOCAT,
  secondUser: HUBOT,
  chooserPrompt: 'select_account',
  // GitHub's hint is the username (`login`), though the account is its numeric id.
  loginHint: ['login', 'octocat'],
  doctorSays: [/^✓ Provider preset: GitHub/m, /^✓ Endpoints: /m],
  steps: (journey, standin) => {
    it('signed in with the profile from /user (sub is the account id) and revoked through DELETE with the app’s credentials', async () => {
      expect(standin().revocations).toBeGreaterThan(0);
      const login = await journey.cli(['login', '--timeout', '60']);
      expect(login.stdout).toBe(`Signed in as The Octocat (583231)\n`);
    });
    it("with the endpoints on loopback and no AUTH_ISSUER, the issuer is the token endpoint's origin (not github.com) and the sign-in goes through", async () => {
      const noIssuer = { AUTH_ISSUER: '' };
      const login = await journey.cli(['login', '--timeout', '60'], noIssuer);
      expect(login.stderr).toBe('');
      expect(login.stdout).toBe(`Signed in as The Octocat (583231)\n`);
      expect(login.code).toBe(0);
      const status = await journey.cli(['status', '--json'], noIssuer);
      expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: true, issuer: `${standin().origin}/` });
    });
  },
  deadTokenSays:
    'Your session ended at the provider: it refused the refresh (bad_refresh_token — The refresh token passed is incorrect or expired; that is, the refresh token is expired, revoked or already used). Sign in again.',
});
