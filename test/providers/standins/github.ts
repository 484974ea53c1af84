// A stand-in for GitHub's OAuth endpoints with a GitHub App ("Expire user authorization tokens" on),
// written from GitHub's documentation:
// - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
//   (/login/oauth/authorize and /login/oauth/access_token; client_id and client_secret in the body,
//   PKCE; a JSON answer when asked with Accept: application/json; no ID token, no discovery)
// - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   (8 h access tokens, 6 month refresh tokens, a new refresh token on every refresh, the old one dead)
// - https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
//   (errors such as bad_verification_code and incorrect_client_credentials come with HTTP 200)
// - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#loopback-redirect-urls
//   (a loopback callback URL matches whatever the port)
// - https://docs.github.com/en/rest/users/users#get-the-authenticated-user (GET /user)
// - https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token (DELETE
//   /applications/{client_id}/token, Basic client_id:client_secret, {"access_token": …}, 204)
// - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps (kind 'oauth-app':
//   the answer is access_token, scope and token_type only — no refresh token, no expires_in; the token
//   works until the user or the app revokes it)
// A dead refresh token: 200 {"error":"bad_refresh_token","error_description":"The refresh token passed is
// incorrect or expired."}.
import { loopbackAnyPort, startStandin, type Standin, type StandinUser } from './standin.ts';

const TROUBLESHOOTING = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

/**
 * `kind: 'oauth-app'` is a GitHub OAuth App instead (docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps):
 * no refresh token and an access token without expiry, valid until the user or app revokes it.
 */
export async function startGithubStandin(options: { clientId: string; clientSecret: string; users: StandinUser[]; kind?: 'github-app' | 'oauth-app' }): Promise<Standin> {
  const oauthApp = options.kind === 'oauth-app';
  return startStandin(
    {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      secretMethods: ['client_secret_post'],
      issuerPath: '/',
      paths: { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', user: '/user', revoke: '/applications/{client_id}/token' },
      redirectAccepted: (uri) => loopbackAnyPort(uri, '/callback'),
      issuesRefreshToken: () => !oauthApp,
      idToken: () => false,
      deadRefreshToken: { status: 200, json: { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.', error_uri: TROUBLESHOOTING } },
      badClient: { status: 200, json: { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.', error_uri: TROUBLESHOOTING } },
      badCode: { status: 200, json: { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: TROUBLESHOOTING } },
      rotation: 'always',
      tokenType: 'bearer',
      ...(oauthApp ? {} : { accessTokenSeconds: 28_800 }),
      userBody: (user) => ({ login: user.login, id: Number(user.sub), name: user.name, email: user.email, avatar_url: `https://avatars.githubusercontent.com/u/${user.sub}?v=4`, type: 'User' }),
      revocation: 'github',
    },
    options.users,
  );
}
