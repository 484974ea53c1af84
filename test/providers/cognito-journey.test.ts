// The CLI's whole journey against a stand-in of an Amazon Cognito user pool (standins/cognito.ts):
// AUTH_PROVIDER=cognito, an exact http://localhost callback on a fixed port, no offline_access, no
// rotation, Cognito's /logout, and its 400 invalid_grant for a revoked token.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startCognitoStandin } from './standins/cognito.ts';
import { ALICE, BOB } from './standins/standin.ts';

const signOutUrl = 'https://app.example.com/signed-out';

describeStandinJourney({
  title: 'the CLI against a Cognito stand-in (AUTH_PROVIDER=cognito)',
  start: (port) => startCognitoStandin({ clientId: 'cognito-public-client', callbackUrl: `http://localhost:${port}/callback`, users: [ALICE, BOB] }),
  env: (standin, port) => ({ AUTH_PROVIDER: 'cognito', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'cognito-public-client', AUTH_REDIRECT_PORT: String(port), AUTH_POST_LOGOUT_REDIRECT_URI: signOutUrl }),
  rotates: false,
  secondUser: BOB,
  chooserPrompt: 'login',
  loginHint: ['login_hint', 'alice@example.com'],
  doctorSays: [/^✓ Provider preset: Amazon Cognito/m, /^✓ Redirect URI accepted: .*http:\/\/localhost:\d+\/callback/m],
  steps: (journey, standin) => {
    it('logout offers Cognito’s own /logout with client_id and logout_uri, not RP-Initiated Logout', async () => {
      expect((await journey.cli(['login', '--timeout', '60'])).code).toBe(0);
      const logout = await journey.cli(['logout']);
      expect(logout.code, logout.stderr).toBe(0);
      const url = new URL(/open: (\S+)/.exec(logout.stdout)?.[1] ?? 'http://missing/');
      expect(url.origin + url.pathname).toBe(`${standin().origin}/logout`);
      expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'cognito-public-client', logout_uri: signOutUrl });
    });
  },
  deadTokenSays: 'Your session ended at the provider: it refused the refresh (invalid_grant — Refresh Token has been revoked). Sign in again.',
});
