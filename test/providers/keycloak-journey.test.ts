// The CLI's whole journey against a stand-in of Keycloak (standins/keycloak.ts): AUTH_PROVIDER=keycloak,
// a loopback redirect URI registered without a port (any port), `iss` in the authorization response
// (RFC 9207), single-use refresh tokens, and Keycloak's "Session not active" for an ended session.
import { describeStandinJourney } from './journey.ts';
import { startKeycloakStandin } from './standins/keycloak.ts';
import { ALICE, BOB } from './standins/standin.ts';

describeStandinJourney({
  title: 'the CLI against a Keycloak stand-in (AUTH_PROVIDER=keycloak)',
  start: () => startKeycloakStandin({ clientId: 'latchkey-desktop', users: [ALICE, BOB] }),
  env: (standin) => ({ AUTH_PROVIDER: 'keycloak', AUTH_ISSUER: standin.issuer, AUTH_CLIENT_ID: 'latchkey-desktop' }),
  secondUser: BOB,
  chooserPrompt: 'login',
  loginHint: ['login_hint', 'alice@example.com'],
  doctorSays: [/^✓ Provider preset: Keycloak/m, /^! Public client: /m],
  deadTokenSays: 'Your session ended at the provider: it refused the refresh (invalid_grant — Session not active). Sign in again.',
});
