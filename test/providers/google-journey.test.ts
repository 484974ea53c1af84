// The CLI's whole journey against a stand-in of Google with a Desktop app client (standins/google.ts):
// AUTH_PROVIDER=google, the client secret Google insists on, access_type=offline instead of
// offline_access, any loopback port, no rotation, and Google's 400 invalid_grant for a dead token.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startGoogleStandin } from './standins/google.ts';
import { ALICE, BOB } from './standins/standin.ts';

const SECRET = 'GOCSPX-standin-not-so-secret';

describeStandinJourney({
  title: 'the CLI against a Google stand-in (AUTH_PROVIDER=google, Desktop app client)',
  start: () => startGoogleStandin({ clientId: 'standin.apps.googleusercontent.com', clientSecret: SECRET, users: [ALICE, BOB] }),
  env: (standin) => ({ AUTH_PROVIDER: 'google', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'standin.apps.googleusercontent.com', AUTH_CLIENT_SECRET: SECRET }),
  rotates: false,
  secondUser: BOB,
  chooserPrompt: 'select_account consent',
  loginHint: ['login_hint', 'alice@example.com'],
  doctorSays: [/^✓ Provider preset: Google/m, /^✓ Client secret: /m],
  steps: (_journey, standin) => {
    it('asked for access_type=offline and prompt=consent, never offline_access, and sent the secret in the body', () => {
      const signIns = standin().authorizationRequests.filter((query) => query.get('code_challenge'));
      expect(signIns.length).toBeGreaterThan(0);
      for (const query of signIns) {
        expect(query.get('access_type')).toBe('offline');
        expect(query.get('prompt')).toBe('consent');
        expect(query.get('scope')?.split(' ')).not.toContain('offline_access');
      }
      const exchange = standin().tokenRequests.find((request) => request.body.get('grant_type') === 'authorization_code');
      expect(exchange?.body.get('client_secret')).toBe(SECRET);
      expect(exchange?.body.get('code_verifier')).toEqual(expect.any(String));
    });
  },
  deadTokenSays: 'Your session ended at the provider: it refused the refresh (invalid_grant — Token has been expired or revoked). Sign in again.',
});
