import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Keycloak — keycloak.org/docs/latest/server_admin/ (public clients, "Revoke Refresh Token",
 * offline sessions), RedirectUtils (a loopback redirect URI registered without a port matches any
 * port), keycloak.org/securing-apps/dpop. Refresh tokens come with the code flow; `offline_access`
 * makes it an offline session that outlives the SSO session.
 * Sign-in with a code (`login --device`): discovery publishes device_authorization_endpoint; turn on
 * "OAuth 2.0 Device Authorization Grant" for the client (keycloak.org/docs/latest/server_admin/).
 */
export const keycloak: ProviderPreset = {
  ...STANDARD,
  name: 'keycloak',
  title: 'Keycloak',
  defaultPrompt: undefined,
  // Audience by client scopes with an audience mapper (Server Administration Guide, "Audience support"); its RFC 8707 support is experimental.
  apiTokens: { by: 'scope' },
  register: ['a public client (Client authentication off) with Standard flow', 'the redirect URI http://127.0.0.1/callback without a port (Keycloak then accepts any loopback port)', 'the offline_access client scope'],
  dpop: true,
};
