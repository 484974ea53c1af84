import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Google (a "Desktop app" OAuth client) —
 * developers.google.com/identity/protocols/oauth2/native-app (loopback redirect on any port,
 * PKCE, the client secret at the token endpoint, `access_type=offline` for a refresh token,
 * revocation at oauth2.googleapis.com/revoke); developers.google.com/identity/protocols/oauth2#installed
 * (the secret "is obviously not treated as a secret"); …/openid-connect#prompt (`prompt=consent`
 * issues a refresh token again). Google has no `offline_access` scope: asking for it is invalid_scope.
 */
export const google: ProviderPreset = {
  ...STANDARD,
  name: 'google',
  title: 'Google',
  defaultIssuer: 'https://accounts.google.com',
  requiredScopes: ['openid'],
  refusedScopes: { offline_access: 'Google has no offline_access scope and refuses the sign-in with invalid_scope; Latchkey asks for access_type=offline instead' },
  authorizationParameters: { access_type: 'offline' },
  defaultPrompt: 'consent',
  // …/openid-connect#authenticationuriparameters: `prompt` is a space-delimited list with select_account; `login_hint` takes an email or the `sub`.
  accountChooser: 'select_account',
  secret: 'required',
  secretAuth: 'client_secret_post',
  logout: 'none',
  apiTokens: { by: 'none', words: 'Google gives one access token whose scopes cover every Google API. List one API in "apis" and put every API\'s scopes (e.g. https://www.googleapis.com/auth/drive.readonly) in AUTH_SCOPE' },
  register: ['an OAuth client of type "Desktop app" (its client id and the client secret Google shows with it)', 'nothing for the redirect: Desktop clients accept http://127.0.0.1 on any port'],
};
