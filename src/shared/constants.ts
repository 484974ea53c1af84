// Constants the app, the auth core and the demo share. Constants only.

/** The Electron app's page origin: the window's pages are served from it and the demo API allows it (CORS). */
export const APP_ORIGIN = 'app://latchkey';

/** The demo provider's one client: a public native app, like an Auth0 "Native" application. */
export const DEMO_CLIENT_ID = 'latchkey-desktop';
/** The demo API's identifier: the `audience` (Auth0) or `resource` (RFC 8707) the app asks tokens for. */
export const DEMO_AUDIENCE = 'urn:latchkey:demo-api';
/** The scopes the demo provider knows and the demo API accepts. */
export const DEMO_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
/** Where `npm run idp` listens unless DEMO_IDP_PORT / DEMO_API_PORT say otherwise; the app and the CLI look there. */
export const DEFAULT_DEMO_IDP_PORT = 4400;
export const DEFAULT_DEMO_API_PORT = 4401;
/** Where a demo provider answers a challenge with an HMAC under the secret in its data folder, proving it is ours. */
export const DEMO_PROOF_PATH = '/.latchkey/demo-proof';
/** The file in the demo's data folder holding that secret. */
export const DEMO_SECRET_FILE = 'instance-secret';
