import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Auth0 — auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens
 * (`offline_access`, and "Allow Offline Access" on the API), …/configure-refresh-token-rotation,
 * …/revoke-refresh-tokens (`/oauth/revoke`), …/authenticate/login/logout/log-users-out-of-auth0.
 * Refresh tokens come without `prompt=consent`; callback URLs match exactly, port included.
 * Sign-in with a code (`login --device`): discovery publishes device_authorization_endpoint; enable the
 * Device Code grant on the application (auth0.com/docs/get-started/authentication-and-authorization-flow/device-authorization-flow).
 */
export const auth0: ProviderPreset = {
  ...STANDARD,
  name: 'auth0',
  title: 'Auth0',
  defaultPrompt: undefined,
  secret: 'accepted',
  secretAuth: 'client_secret_post',
  apiTokens: { by: 'audience' },
  redirect: { host: '127.0.0.1', exactPort: true },
  register: [
    'a Native application (token endpoint authentication method "None") with the Authorization Code and Refresh Token grants',
    '"Allow Offline Access" on the API named by AUTH_AUDIENCE',
    'the exact callback URL below, port included (set AUTH_REDIRECT_PORT)',
  ],
  dpop: true,
};
