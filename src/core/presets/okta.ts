import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Okta — developer.okta.com/docs/guides/refresh-tokens/main/ (`offline_access` and the Refresh
 * Token grant on the app), …/refresh-token-rotation/ (0–60 s grace, reuse revokes the family),
 * …/docs/guides/dpop/, …/docs/reference/api/oidc/ (prompt=consent only where the app requires
 * consent). Redirect URIs are matched exactly.
 * Sign-in with a code (`login --device`): discovery publishes device_authorization_endpoint; allow the
 * app the Device Authorization grant (developer.okta.com/docs/guides/device-authorization-grant/main/).
 */
export const okta: ProviderPreset = {
  ...STANDARD,
  name: 'okta',
  title: 'Okta',
  // Refresh tokens come with offline_access alone; prompt=consent is only for apps whose consent is required.
  defaultPrompt: undefined,
  redirect: { host: '127.0.0.1', exactPort: true },
  apiTokens: { by: 'none', words: 'An Okta custom authorization server issues access tokens for its one audience. Put the APIs behind one authorization server (one audience) and list one API in "apis", or register a second app for the other authorization server' },
  register: ['a Native app with PKCE and the Authorization Code and Refresh Token grants', 'the exact sign-in redirect URI below, port included (set AUTH_REDIRECT_PORT)', 'the offline_access scope allowed by the authorization server'],
  dpop: true,
};
