// The CLI's journey against a stand-in of a GitHub OAuth App (standins/github.ts, kind 'oauth-app'):
// no refresh token, only an access token without expiry. The keychain entry keeps that access token;
// the session lasts across processes until the token is refused (a 401 for it ends the session: the
// CLI's `token --refresh` says so, nothing is ever redeemed); `status` says which kind of session it
// is; logout revokes it with GitHub's DELETE.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startGithubStandin } from './standins/github.ts';
import { ALICE } from './standins/standin.ts';

const SECRET = 'standin-oauth-app-secret';
const OCTOCAT = { ...ALICE, login: 'octocat', sub: '583231', name: 'The Octocat', email: 'octocat@github.com' };

describeStandinJourney({
  title: 'the CLI against a GitHub OAuth App stand-in (no refresh token: the long-lived access token is the session)',
  start: () => startGithubStandin({ clientId: 'Ov23liOAuthApp', clientSecret: SECRET, users: [OCTOCAT], kind: 'oauth-app' }),
  env: (standin) => ({
    AUTH_PROVIDER: 'github',
    AUTH_ISSUER: standin.issuer,
    AUTH_CLIENT_ID: 'Ov23liOAuthApp',
    AUTH_CLIENT_SECRET: SECRET,
    AUTH_AUTHORIZATION_ENDPOINT: `${standin.origin}/login/oauth/authorize`,
    AUTH_TOKEN_ENDPOINT: `${standin.origin}/login/oauth/access_token`,
    AUTH_USERINFO_ENDPOINT: `${standin.origin}/user`,
    AUTH_REVOCATION_ENDPOINT: `${standin.origin}/applications/{client_id}/token`,
  }),
  user: OCTOCAT,
  wholeJourney: false,
  steps: ({ cli, storedEntry: stored, leaks }, standin) => {
    let accessToken = '';
    it('login keeps the long-lived access token in the keychain entry, and status says the session stands on it', async () => {
      const login = await cli(['login', '--timeout', '60']);
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toBe('Signed in as The Octocat (583231)\n');
      const entry = await stored();
      expect(entry).toMatchObject({ v: 1, access_token: expect.any(String), sub: '583231' });
      expect(entry).not.toHaveProperty('refresh_token');
      accessToken = String(entry?.access_token);
      const status = await cli(['status']);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^Signed in as The Octocat \(583231\) at .*\nThe session stands on a long-lived access token \(the provider issues no refresh token\): it lasts until the provider refuses it\.\n$/);
      const json = await cli(['status', '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ signedIn: true, standsOn: 'access_token', user: { name: 'The Octocat', email: 'octocat@github.com' } });
    });

    it('a restarted process hands out the same token from the keychain entry, without asking the provider', async () => {
      const tokenRequests = standin().tokenRequests.length;
      const userRequests = standin().userRequests;
      for (const run of [1, 2]) {
        const token = await cli(['token']);
        expect(token.code, `run ${run}: ${token.stderr}`).toBe(0);
        expect(token.stdout.trim()).toBe(accessToken);
      }
      expect(standin().tokenRequests.length).toBe(tokenRequests);
      expect(standin().userRequests).toBe(userRequests);
      expect(await standin().accessTokenWorks(accessToken)).toBe(true);
      expect((await cli(['status', '--json'])).stdout).toContain('"standsOn":"access_token"');
    });

    it('once the user revokes the app at GitHub, its API refuses the token and token --refresh (the 401 rule) ends the session: exit 1, "Sign in again", entry deleted, never a refresh', async () => {
      standin().endAllSessions({ accessTokensToo: true });
      expect(await standin().accessTokenWorks(accessToken)).toBe(false);
      const token = await cli(['token', '--refresh']);
      expect(token.code).toBe(1);
      expect(token.stdout).toBe('');
      expect(token.stderr.trim()).toBe(
        'Your session ended: the access token it stands on was refused (the authorization was revoked at the provider, or the token expired), and this provider issues no refresh token to renew it. Sign in again.',
      );
      expect(await stored()).toBeNull();
      expect((await cli(['status'])).code).toBe(1);
      expect((await cli(['token'])).code).toBe(1);
      expect(standin().tokenRequests.filter((request) => request.body.get('grant_type') === 'refresh_token')).toEqual([]);
    });

    it('logout revokes the access token with DELETE /applications/{client_id}/token', async () => {
      expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
      const token = String((await stored())?.access_token);
      const before = standin().revocations;
      const logout = await cli(['logout']);
      expect(logout.code, logout.stderr).toBe(0);
      expect(logout.stderr).toBe('');
      expect(standin().revocations).toBe(before + 1);
      expect(await standin().accessTokenWorks(token)).toBe(false);
      expect(await stored()).toBeNull();
    });

    it('neither the access token nor the client secret appears in the data folder or any output but `token`', async () => {
      expect(await leaks([accessToken, SECRET])).toEqual([]);
    });
  },
});
