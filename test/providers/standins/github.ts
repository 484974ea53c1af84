// The one stand-in for GitHub's OAuth endpoints: a GitHub App ("Expire user authorization tokens" on)
// or, with `kind: 'oauth-app'`, an OAuth App; sign-in in the browser and sign-in with a code (the
// device flow). Written from GitHub's documentation:
// - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
//   (/login/oauth/authorize and /login/oauth/access_token; client_id and client_secret in the body,
//   PKCE; no ID token, no discovery)
// - https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   (8 h access tokens, 6 month refresh tokens — expires_in 28800, refresh_token_expires_in 15897600 —
//   a new refresh token on every refresh, the old one dead)
// - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//   (the token answer is application/x-www-form-urlencoded unless the request says
//   `Accept: application/json`; a loopback callback URL matches whatever the port; an OAuth App's
//   answer is access_token, scope and token_type only — no refresh token, no expires_in — and the
//   token works until the user or the app revokes it)
// - https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow
//   (steps 1–3, "Rate limits for the device flow" and "Error codes for the device flow"):
//   POST /login/device/code (client_id, scope; no secret) answers device_code, user_code,
//   verification_uri https://github.com/login/device, expires_in 900, interval 5; polls of
//   /login/oauth/access_token (client_id, device_code, grant_type
//   urn:ietf:params:oauth:grant-type:device_code) are answered authorization_pending, expired_token,
//   incorrect_device_code or unsupported_grant_type — all with HTTP 200 and an `error` member — until
//   the user approves; both endpoints answer in the form format unless asked for JSON
// - https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
//   (bad_refresh_token, bad_verification_code and incorrect_client_credentials come with HTTP 200 too)
// - https://docs.github.com/en/rest/users/users#get-the-authenticated-user (GET /user with the token;
//   401 "Bad credentials" without a good one)
// - https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token (DELETE
//   /applications/{client_id}/token, Basic client_id:client_secret, {"access_token": …}, 204)
// GitHub publishes no authorization server metadata (RFC 8414). With `discovery: true`, a document at
// /.well-known/openid-configuration naming the endpoints above stands in for what the github preset
// supplies, for tests of the generic client against GitHub's answers.
import { loopbackAnyPort, startStandin, type Standin, type StandinUser } from './standin.ts';

const TROUBLESHOOTING = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';
const DEVICE_FLOW_ERRORS = 'https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow';
const deviceError = (error: string, description: string) => ({ status: 200, json: { error, error_description: description, error_uri: DEVICE_FLOW_ERRORS } });

/**
 * Starts the stand-in. `kind: 'oauth-app'` is a GitHub OAuth App
 * (docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps): no refresh token and
 * an access token without expiry, valid until the user or app revokes it.
 */
export async function startGithubStandin(options: {
  clientId: string;
  clientSecret: string;
  users: StandinUser[];
  kind?: 'github-app' | 'oauth-app';
  discovery?: boolean;
}): Promise<Standin> {
  const oauthApp = options.kind === 'oauth-app';
  const paths = { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', user: '/user', revoke: '/applications/{client_id}/token', deviceCode: '/login/device/code' };
  return startStandin(
    {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      secretMethods: ['client_secret_post'],
      issuerPath: '/',
      paths,
      ...(options.discovery
        ? {
            discovery: (origin: string, issuer: string) => ({
              issuer,
              authorization_endpoint: `${origin}${paths.authorize}`,
              token_endpoint: `${origin}${paths.token}`,
              device_authorization_endpoint: `${origin}${paths.deviceCode}`,
              response_types_supported: ['code'],
            }),
          }
        : {}),
      redirectAccepted: (uri) => loopbackAnyPort(uri, '/callback'),
      issuesRefreshToken: () => !oauthApp,
      idToken: () => false,
      deadRefreshToken: { status: 200, json: { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.', error_uri: TROUBLESHOOTING } },
      badClient: { status: 200, json: { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.', error_uri: TROUBLESHOOTING } },
      badCode: { status: 200, json: { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: TROUBLESHOOTING } },
      unsupportedGrant: deviceError('unsupported_grant_type', 'The grant type is not supported.'),
      deviceFlow: {
        verificationUri: 'https://github.com/login/device',
        expiresIn: 900,
        interval: 5,
        pending: deviceError('authorization_pending', 'The authorization request is still pending.'),
        expired: deviceError('expired_token', 'The device_code has expired.'),
        unknownCode: deviceError('incorrect_device_code', 'The device_code provided is not valid.'),
      },
      formUnlessJsonAccepted: true,
      rotation: 'always',
      tokenType: 'bearer',
      ...(oauthApp ? {} : { accessTokenSeconds: 28_800, refreshTokenSeconds: 15_897_600 }),
      userBody: (user) => ({ login: user.login, id: Number(user.sub), name: user.name, email: user.email, avatar_url: `https://avatars.githubusercontent.com/u/${user.sub}?v=4`, type: 'User' }),
      badAccessToken: { status: 401, json: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } },
      revocation: 'github',
    },
    options.users,
  );
}
