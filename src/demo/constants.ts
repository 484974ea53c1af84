/** The demo provider's one client: a public native app, like an Auth0 "Native" application. */
export const DEMO_CLIENT_ID = 'latchkey-desktop';
/** The demo API's identifier: the `audience` (Auth0) or `resource` (RFC 8707) the app asks tokens for. */
export const DEMO_AUDIENCE = 'urn:latchkey:demo-api';
/** The Electron app's page origin, allowed by the demo API's CORS. */
export const APP_ORIGIN = 'app://latchkey';
/** The scopes the demo provider knows and the demo API accepts. */
export const DEMO_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
