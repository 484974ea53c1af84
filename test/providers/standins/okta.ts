// A stand-in for an Okta custom authorization server ("default") with a Native app (PKCE, no secret),
// written from Okta's documentation:
// - https://developer.okta.com/docs/reference/api/oidc/ (/oauth2/default/v1/authorize, /token, /userinfo,
//   /revoke, /keys, /logout; the discovery document)
// - https://developer.okta.com/docs/guides/refresh-tokens/main/ (offline_access and the Refresh Token
//   grant bring a refresh token; a refresh token that is invalid or expired is answered 400
//   {"error":"invalid_grant","error_description":"The refresh token is invalid or expired."})
// - https://developer.okta.com/docs/guides/refresh-tokens/main/#refresh-token-rotation (rotation; the
//   grace period is 0 here, the lowest setting)
// - https://developer.okta.com/docs/guides/sign-into-spa-redirect/main/ (sign-in redirect URIs match exactly)
import { startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startOktaStandin(options: { clientId: string; redirectUri: string; users: StandinUser[] }): Promise<Standin> {
  const server = '/oauth2/default';
  return startStandin(
    {
      clientId: options.clientId,
      issuerPath: server,
      discovery: (origin, issuer) => ({
        issuer,
        authorization_endpoint: `${origin}${server}/v1/authorize`,
        token_endpoint: `${origin}${server}/v1/token`,
        userinfo_endpoint: `${origin}${server}/v1/userinfo`,
        registration_endpoint: `${origin}/oauth2/v1/clients`,
        jwks_uri: `${origin}${server}/v1/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'],
        response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
        grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'urn:ietf:params:oauth:grant-type:device_code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'device_sso'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
        code_challenge_methods_supported: ['S256'],
        introspection_endpoint: `${origin}${server}/v1/introspect`,
        revocation_endpoint: `${origin}${server}/v1/revoke`,
        end_session_endpoint: `${origin}${server}/v1/logout`,
        request_parameter_supported: true,
        device_authorization_endpoint: `${origin}${server}/v1/device/authorize`,
        dpop_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
      }),
      paths: { authorize: `${server}/v1/authorize`, token: `${server}/v1/token`, user: `${server}/v1/userinfo`, revoke: `${server}/v1/revoke`, jwks: `${server}/v1/keys` },
      redirectAccepted: (uri) => uri === options.redirectUri,
      issuesRefreshToken: (query) => (query.get('scope') ?? '').split(' ').includes('offline_access'),
      idToken: (scope) => scope.split(' ').includes('openid'),
      deadRefreshToken: { status: 400, json: { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' } },
      badClient: { status: 401, json: { error: 'invalid_client', error_description: 'Client authentication failed. Either the client or the client credentials are invalid.' } },
      badCode: { status: 400, json: { error: 'invalid_grant', error_description: 'The authorization code is invalid or has expired.' } },
      rotation: 'always',
      accessTokenSeconds: 3600,
      userBody: (user) => ({ sub: user.sub, name: user.name, email: user.email, email_verified: true, preferred_username: user.email }),
      revocation: 'rfc7009',
    },
    options.users,
  );
}
