// Constants the app, the auth core and the demo share. Constants only — and the one
// definition both sides of the demo proof must agree on (`demoProofInput`).

/** The Electron app's page origin: the window's pages are served from it and the demo API allows it (CORS). */
export const APP_ORIGIN = 'app://latchkey';

/** The demo provider's one client: a public native app, like an Auth0 "Native" application. */
export const DEMO_CLIENT_ID = 'latchkey-desktop';
/** The demo API's identifier: the `audience` (Auth0) or `resource` (RFC 8707) the app asks tokens for. */
export const DEMO_AUDIENCE = 'urn:latchkey:demo-api';
/**
 * The demo's second API (a file store), under the demo API's own origin at `DEMO_FILES_PATH`: its own resource
 * indicator (RFC 8707), so its tokens are not the first API's and each API refuses the other's.
 */
export const DEMO_FILES_RESOURCE = 'urn:latchkey:demo-files';
export const DEMO_FILES_PATH = '/files/';
/**
 * The demo's sign-in strengths (OpenID Connect `acr` values): a password, or a password and a one-time code (a
 * second step). `DEMO_STEP_UP_PATH` on the demo API asks for the second (RFC 9470), signed in at most
 * `DEMO_STEP_UP_MAX_AGE` seconds ago.
 */
export const DEMO_ACR_PASSWORD = 'urn:latchkey:demo:acr:password';
export const DEMO_ACR_TWO_STEP = 'urn:latchkey:demo:acr:two-step';
export const DEMO_STEP_UP_PATH = '/strong/me';
export const DEMO_STEP_UP_MAX_AGE = 600;
/** The scopes the demo provider knows and the demo API accepts. */
export const DEMO_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
/** Where `npm run idp` listens unless DEMO_IDP_PORT / DEMO_API_PORT say otherwise; the app and the CLI look there. */
export const DEFAULT_DEMO_IDP_PORT = 4400;
export const DEFAULT_DEMO_API_PORT = 4401;
/** Where a demo provider answers a challenge with an HMAC under the secret in its data folder, proving it is ours. */
export const DEMO_PROOF_PATH = '/.latchkey/demo-proof';
/**
 * What the demo's proof is an HMAC of: the issuer's origin and the challenge. Binding the origin means
 * a program squatting the demo's port cannot pass by relaying the challenge to the real demo elsewhere:
 * that demo answers for its own origin, not the one the client asked.
 */
export function demoProofInput(issuer: string, challenge: string): string {
  return `${new URL(issuer).origin}\n${challenge}`;
}
/** The file in the demo's data folder holding that secret. */
export const DEMO_SECRET_FILE = 'instance-secret';
