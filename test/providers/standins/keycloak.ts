// A stand-in for a Keycloak realm with a public client, written from Keycloak's documentation:
// - https://www.keycloak.org/securing-apps/oidc-layers (endpoints under /realms/{realm}/protocol/openid-connect:
//   auth, token, userinfo, revoke, logout, certs; the discovery document)
// - https://www.keycloak.org/docs/latest/server_admin/ ("Valid redirect URIs"; a loopback URI registered
//   without a port accepts any port, as RFC 8252 §7.3 asks; "Revoke Refresh Token" with maximum reuse 0
//   makes every refresh token single-use; an ended session answers a refresh with 400
//   {"error":"invalid_grant","error_description":"Session not active"})
// - https://www.keycloak.org/docs/latest/upgrading/ (since 18, logout takes client_id or id_token_hint)
// The code flow always brings a refresh token; offline_access makes it an offline token.
import { loopbackAnyPort, startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startKeycloakStandin(options: { clientId: string; users: StandinUser[] }): Promise<Standin> {
  const realm = '/realms/latchkey';
  const oidc = `${realm}/protocol/openid-connect`;
  return startStandin(
    {
      clientId: options.clientId,
      issuerPath: realm,
      discovery: (origin, issuer) => ({
        issuer,
        authorization_endpoint: `${origin}${oidc}/auth`,
        token_endpoint: `${origin}${oidc}/token`,
        introspection_endpoint: `${origin}${oidc}/token/introspect`,
        userinfo_endpoint: `${origin}${oidc}/userinfo`,
        end_session_endpoint: `${origin}${oidc}/logout`,
        frontchannel_logout_session_supported: true,
        jwks_uri: `${origin}${oidc}/certs`,
        grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types_supported: ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
        subject_types_supported: ['public', 'pairwise'],
        id_token_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512'],
        scopes_supported: ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'roles', 'web-origins', 'microprofile-jwt', 'basic', 'acr'],
        token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
        code_challenge_methods_supported: ['plain', 'S256'],
        revocation_endpoint: `${origin}${oidc}/revoke`,
        device_authorization_endpoint: `${origin}${oidc}/auth/device`,
        dpop_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'ES256', 'RS256', 'ES512', 'PS256', 'PS512', 'RS512'],
        authorization_response_iss_parameter_supported: true,
      }),
      paths: { authorize: `${oidc}/auth`, token: `${oidc}/token`, user: `${oidc}/userinfo`, revoke: `${oidc}/revoke`, jwks: `${oidc}/certs` },
      redirectAccepted: (uri) => loopbackAnyPort(uri, '/callback'),
      issuesRefreshToken: () => true,
      idToken: (scope) => scope.split(' ').includes('openid'),
      deadRefreshToken: { status: 400, json: { error: 'invalid_grant', error_description: 'Session not active' } },
      badClient: { status: 401, json: { error: 'unauthorized_client', error_description: 'Invalid client or Invalid client credentials' } },
      badCode: { status: 400, json: { error: 'invalid_grant', error_description: 'Code not valid' } },
      rotation: 'always',
      accessTokenSeconds: 300,
      userBody: (user) => ({ sub: user.sub, name: user.name, email: user.email, email_verified: true, preferred_username: user.login }),
      revocation: 'rfc7009',
      issuerInAuthorizationResponse: true,
    },
    options.users,
  );
}
