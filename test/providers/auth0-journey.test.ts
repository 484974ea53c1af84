// The CLI's whole journey against a stand-in of Auth0 (standins/auth0.ts): AUTH_PROVIDER=auth0, a
// fixed callback port (Auth0 matches callback URLs exactly), rotation, and Auth0's 403 for a dead token.
import { describeStandinJourney } from './journey.ts';
import { startAuth0Standin } from './standins/auth0.ts';
import { ALICE, BOB } from './standins/standin.ts';

describeStandinJourney({
  title: 'the CLI against an Auth0 stand-in (AUTH_PROVIDER=auth0)',
  start: (port) => startAuth0Standin({ clientId: 'auth0-native-client', callbackUrl: `http://127.0.0.1:${port}/callback`, users: [ALICE, BOB] }),
  env: (standin, port) => ({ AUTH_PROVIDER: 'auth0', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'auth0-native-client', AUTH_REDIRECT_PORT: String(port) }),
  secondUser: BOB,
  chooserPrompt: 'login',
  loginHint: ['login_hint', 'alice@example.com'],
  doctorSays: [/^✓ Provider preset: Auth0/m, /^! Rotation grace period: /m],
  deadTokenSays: 'Your session ended at the provider: it refused the refresh (invalid_grant — Unknown or invalid refresh token). Sign in again.',
});
