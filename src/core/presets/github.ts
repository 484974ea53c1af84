import type { UserProfile } from '../../shared/auth-state.ts';
import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * GitHub Apps and OAuth Apps — docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
 * (no discovery, no ID token, the app's secret at the token endpoint even with PKCE),
 * …/refreshing-user-access-tokens (expiring tokens: 8 h access, 6 months refresh, rotated on every
 * use; errors such as `bad_refresh_token` come with HTTP 200), docs.github.com/en/rest/users/users#get-the-authenticated-user
 * (the profile), docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token (revocation:
 * DELETE /applications/{client_id}/token with Basic client_id:secret), docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#loopback-redirect-urls
 * (the port of a loopback redirect URI is ignored). An OAuth App issues no refresh token at all.
 */
export const github: ProviderPreset = {
  ...STANDARD,
  name: 'github',
  title: 'GitHub',
  discovery: false,
  defaultIssuer: 'https://github.com/',
  endpoints: {
    authorization_endpoint: 'https://github.com/login/oauth/authorize',
    token_endpoint: 'https://github.com/login/oauth/access_token',
    userinfo_endpoint: 'https://api.github.com/user',
    revocation_endpoint: 'https://api.github.com/applications/{client_id}/token',
    // The device flow (docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow):
    // "Enable Device Flow" in the app's settings. Its errors come with HTTP 200 (device-sign-in.ts reads them).
    device_authorization_endpoint: 'https://github.com/login/device/code',
  },
  defaultScope: 'read:user user:email',
  requiredScopes: [],
  defaultPrompt: undefined,
  // …/authorizing-oauth-apps#1-request-a-users-github-identity: `prompt=select_account` forces the account picker; `login` suggests an account (a username).
  accountChooser: 'select_account',
  loginHint: { parameter: 'login', value: 'username' },
  secret: 'required',
  secretAuth: 'client_secret_post',
  revocation: 'github',
  logout: 'none',
  apiTokens: { by: 'none', words: 'GitHub gives one token whose scopes (or, for a GitHub App, permissions) cover every GitHub API. List one API in "apis" and put the scopes in AUTH_SCOPE' },
  refreshTokens: 'maybe',
  register: [
    'a GitHub App with "Expire user authorization tokens" on (an OAuth App issues no refresh token, which Latchkey does not support yet)',
    'the callback URL http://127.0.0.1/callback (GitHub ignores the port of a loopback URL)',
    'a client secret, given as AUTH_CLIENT_SECRET',
  ],
  userEndpointHeaders: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'Latchkey' },
  profileFromUser(user): UserProfile | undefined {
    if (typeof user.id !== 'number' && typeof user.id !== 'string') return undefined;
    const profile: UserProfile = { sub: String(user.id) };
    const name = typeof user.name === 'string' && user.name ? user.name : user.login;
    if (typeof name === 'string' && name) profile.name = name;
    if (typeof user.email === 'string' && user.email) profile.email = user.email;
    if (typeof user.login === 'string' && user.login) profile.username = user.login;
    if (typeof user.avatar_url === 'string' && user.avatar_url) profile.picture = user.avatar_url;
    return profile;
  },
};
