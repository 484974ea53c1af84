// A stand-in for Google's OAuth 2.0 server with a "Desktop app" client, written from Google's documentation:
// - https://developers.google.com/identity/protocols/oauth2/native-app (loopback IP redirect on any port,
//   PKCE, client_id and client_secret at the token endpoint, access_type=offline for a refresh token,
//   revocation at /revoke with the token alone)
// - https://developers.google.com/identity/protocols/oauth2#installed (the desktop secret "is obviously not
//   treated as a secret") and …/oauth2#expiration (refresh tokens do not rotate)
// - https://developers.google.com/identity/openid-connect/openid-connect (discovery document fields,
//   prompt=consent: a refresh token is returned on first consent only, unless consent is asked again)
// - a dead refresh token is answered 400 {"error":"invalid_grant","error_description":"Token has been
//   expired or revoked."}; offline_access is not a Google scope (invalid_scope, better-auth#3926).
import { loopbackAnyPort, startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startGoogleStandin(options: { clientId: string; clientSecret: string; users: StandinUser[] }): Promise<Standin> {
  const consented = new Set<string>();
  return startStandin(
    {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      secretMethods: ['client_secret_post', 'client_secret_basic'],
      issuerPath: '',
      discovery: (origin, issuer) => ({
        issuer,
        authorization_endpoint: `${origin}/o/oauth2/v2/auth`,
        device_authorization_endpoint: `${origin}/device/code`,
        token_endpoint: `${origin}/token`,
        userinfo_endpoint: `${origin}/v1/userinfo`,
        revocation_endpoint: `${origin}/revoke`,
        jwks_uri: `${origin}/oauth2/v3/certs`,
        response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
        code_challenge_methods_supported: ['plain', 'S256'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      }),
      paths: { authorize: '/o/oauth2/v2/auth', token: '/token', user: '/v1/userinfo', revoke: '/revoke', jwks: '/oauth2/v3/certs' },
      redirectAccepted: (uri) => URL.canParse(uri) && loopbackAnyPort(uri, new URL(uri).pathname),
      authorizationError: (query) =>
        (query.get('scope') ?? '').split(' ').includes('offline_access') ? { error: 'invalid_scope', error_description: 'Some requested scopes were invalid. {invalid=[offline_access]}' } : undefined,
      issuesRefreshToken: (query) => {
        if (query.get('access_type') !== 'offline') return false;
        const key = query.get('client_id') ?? '';
        const first = !consented.has(key);
        consented.add(key);
        return first || (query.get('prompt') ?? '').split(' ').includes('consent');
      },
      idToken: (scope) => scope.split(' ').includes('openid'),
      deadRefreshToken: { status: 400, json: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } },
      badClient: { status: 401, json: { error: 'invalid_client', error_description: 'Unauthorized' } },
      badCode: { status: 400, json: { error: 'invalid_grant', error_description: 'Bad Request' } },
      rotation: 'never',
      accessTokenSeconds: 3599,
      userBody: (user) => ({ sub: user.sub, name: user.name, email: user.email, email_verified: true }),
      revocation: 'rfc7009',
      revocationWithoutClient: true,
    },
    options.users,
  );
}
