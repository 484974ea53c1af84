import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Amazon Cognito user pools —
 * docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html,
 * …/token-endpoint.html and …/amazon-cognito-user-pools-using-the-refresh-token.html (the code
 * flow always issues a refresh token; there is no offline_access scope),
 * …/revocation-endpoint.html (`/oauth2/revoke`), …/logout-endpoint.html (`/logout?client_id&logout_uri`,
 * not RP-Initiated Logout), API_CreateUserPoolClient (CallbackURLs match exactly; http only for localhost).
 */
export const cognito: ProviderPreset = {
  ...STANDARD,
  name: 'cognito',
  title: 'Amazon Cognito',
  defaultScope: 'openid profile email',
  requiredScopes: ['openid'],
  refusedScopes: { offline_access: 'Cognito has no offline_access scope (it always issues a refresh token with the code flow)' },
  defaultPrompt: undefined,
  secretAuth: 'client_secret_basic',
  redirect: { host: 'localhost', exactPort: true },
  logout: 'cognito',
  apiTokens: { by: 'none', words: 'Cognito gives one access token whose custom scopes (resource-server-identifier/scope) cover every resource server. List one API in "apis" and put every API\'s custom scopes in AUTH_SCOPE' },
  register: ['an app client without a client secret, with the Authorization code grant and the openid scope', 'the exact callback URL below (http://localhost with a fixed port: set AUTH_REDIRECT_PORT)', 'the sign-out URL given as AUTH_POST_LOGOUT_REDIRECT_URI, if any'],
};
