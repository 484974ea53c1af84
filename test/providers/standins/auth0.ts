// A stand-in for an Auth0 tenant with a Native application, written from Auth0's documentation:
// - https://auth0.com/docs/api/authentication (authorize, /oauth/token with PKCE, /userinfo, /oauth/revoke)
// - https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens (offline_access brings one)
// - https://auth0.com/docs/secure/tokens/refresh-tokens/configure-refresh-token-rotation (rotation; a
//   reused token revokes the family; reuse interval 0 here)
// - https://auth0.com/docs/secure/tokens/refresh-tokens/revoke-refresh-tokens
// - https://auth0.com/docs/get-started/applications/application-settings (Allowed Callback URLs match
//   exactly, port included)
// - a dead refresh token is answered 403 {"error":"invalid_grant","error_description":"Unknown or invalid
//   refresh token."}, as auth0/Auth0.Android#334 and #378 show.
// The end_session_endpoint is advertised only behind a tenant toggle; it is off here, as by default.
import { startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startAuth0Standin(options: { clientId: string; callbackUrl: string; users: StandinUser[] }): Promise<Standin> {
  return startStandin(
    {
      clientId: options.clientId,
      issuerPath: '/',
      discovery: (origin, issuer) => ({
        issuer,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/oauth/token`,
        device_authorization_endpoint: `${origin}/oauth/device/code`,
        userinfo_endpoint: `${origin}/userinfo`,
        jwks_uri: `${origin}/.well-known/jwks.json`,
        revocation_endpoint: `${origin}/oauth/revoke`,
        scopes_supported: ['openid', 'profile', 'offline_access', 'name', 'email'],
        response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
        code_challenge_methods_supported: ['S256', 'plain'],
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['public'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
        dpop_signing_alg_values_supported: ['ES256'],
      }),
      paths: { authorize: '/authorize', token: '/oauth/token', user: '/userinfo', revoke: '/oauth/revoke', jwks: '/.well-known/jwks.json' },
      redirectAccepted: (uri) => uri === options.callbackUrl,
      issuesRefreshToken: (query) => (query.get('scope') ?? '').split(' ').includes('offline_access'),
      idToken: (scope) => scope.split(' ').includes('openid'),
      deadRefreshToken: { status: 403, json: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' } },
      badClient: { status: 401, json: { error: 'access_denied', error_description: 'Unauthorized' } },
      badCode: { status: 403, json: { error: 'invalid_grant', error_description: 'Invalid authorization code' } },
      rotation: 'always',
      accessTokenSeconds: 86_400,
      userBody: (user) => ({ sub: user.sub, name: user.name, email: user.email, email_verified: true }),
      revocation: 'rfc7009',
    },
    options.users,
  );
}
