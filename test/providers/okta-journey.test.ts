// The CLI's whole journey against a stand-in of Okta (standins/okta.ts): AUTH_PROVIDER=okta, an exact
// sign-in redirect URI on a fixed port, offline_access without a consent prompt, rotation, and Okta's
// 400 invalid_grant for a dead token.
import { expect, it } from 'vitest';
import { describeStandinJourney } from './journey.ts';
import { startOktaStandin } from './standins/okta.ts';
import { ALICE, BOB } from './standins/standin.ts';

describeStandinJourney({
  title: 'the CLI against an Okta stand-in (AUTH_PROVIDER=okta)',
  start: (port) => startOktaStandin({ clientId: '0oaStandInNative', redirectUri: `http://127.0.0.1:${port}/callback`, users: [ALICE, BOB] }),
  env: (standin, port) => ({ AUTH_PROVIDER: 'okta', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: '0oaStandInNative', AUTH_REDIRECT_PORT: String(port) }),
  secondUser: BOB,
  chooserPrompt: 'login',
  loginHint: ['login_hint', 'alice@example.com'],
  doctorSays: [/^✓ Provider preset: Okta/m, /^✓ Public client: /m],
  steps: (_journey, standin) => {
    it('asked for offline_access without prompt=consent', () => {
      const signIns = standin().authorizationRequests.filter((query) => query.get('code_challenge'));
      expect(signIns.length).toBeGreaterThan(0);
      for (const query of signIns) {
        expect(query.get('scope')?.split(' ')).toContain('offline_access');
        expect(query.has('prompt')).toBe(false);
      }
    });
  },
  deadTokenSays: 'Your session ended at the provider: it refused the refresh (invalid_grant — The refresh token is invalid or expired). Sign in again.',
});
