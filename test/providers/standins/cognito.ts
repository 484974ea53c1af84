// A stand-in for an Amazon Cognito user pool with a public app client, written from AWS's documentation:
// - https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html (PKCE, exact
//   callback URLs; http only for localhost — API_CreateUserPoolClient, CallbackURLs)
// - https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html (code and refresh grants;
//   the code flow always returns a refresh token; no offline_access scope)
// - https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html
//   (rotation is optional and off by default: the same refresh token is used until it expires)
// - https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html (/oauth2/revoke)
// - https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html (/logout?client_id&logout_uri)
// - https://docs.aws.amazon.com/cognito/latest/developerguide/userinfo-endpoint.html (/oauth2/userInfo)
// A revoked refresh token is answered 400 {"error":"invalid_grant","error_description":"Refresh Token has been revoked"}.
import { startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startCognitoStandin(options: { clientId: string; callbackUrl: string; users: StandinUser[] }): Promise<Standin> {
  return startStandin(
    {
      clientId: options.clientId,
      issuerPath: '/us-east-1_StandIn',
      discovery: (origin, issuer) => ({
        issuer,
        authorization_endpoint: `${origin}/oauth2/authorize`,
        token_endpoint: `${origin}/oauth2/token`,
        userinfo_endpoint: `${origin}/oauth2/userInfo`,
        revocation_endpoint: `${origin}/oauth2/revoke`,
        end_session_endpoint: `${origin}/logout`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        response_types_supported: ['code', 'token'],
        scopes_supported: ['openid', 'email', 'phone', 'profile'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      }),
      paths: { authorize: '/oauth2/authorize', token: '/oauth2/token', user: '/oauth2/userInfo', revoke: '/oauth2/revoke', jwks: '/us-east-1_StandIn/.well-known/jwks.json' },
      redirectAccepted: (uri) => uri === options.callbackUrl,
      authorizationError: (query) => {
        const unknown = (query.get('scope') ?? '').split(' ').filter((scope) => scope && !['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'].includes(scope));
        return unknown.length > 0 ? { error: 'invalid_scope', error_description: `invalid scope: ${unknown.join(' ')}` } : undefined;
      },
      issuesRefreshToken: () => true,
      idToken: (scope) => scope.split(' ').includes('openid'),
      deadRefreshToken: { status: 400, json: { error: 'invalid_grant', error_description: 'Refresh Token has been revoked' } },
      badClient: { status: 400, json: { error: 'invalid_client' } },
      badCode: { status: 400, json: { error: 'invalid_grant' } },
      rotation: 'never',
      accessTokenSeconds: 3600,
      userBody: (user) => ({ sub: user.sub, email: user.email, email_verified: 'true', name: user.name, username: user.login }),
      revocation: 'rfc7009',
    },
    options.users,
  );
}
