// A stand-in for the Microsoft identity platform (Entra ID, v2.0 endpoints) with a public client
// ("Allow public client flows"), written from Microsoft's documentation:
// - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow (authorize and token
//   requests; offline_access for a refresh token; `scope` is required on a refresh; a public client
//   sends no secret)
// - https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc (the discovery document; for
//   common/organizations/consumers the issuer is the template https://login.microsoftonline.com/{tenantid}/v2.0
//   and each ID token's iss names the user's tenant, with `tid`)
// - https://learn.microsoft.com/entra/identity-platform/reply-url (loopback redirect URIs: the port is ignored)
// - https://learn.microsoft.com/entra/identity-platform/refresh-tokens (a new refresh token with each
//   refresh, the old one still valid; no RFC 7009 revocation; revoked when the password changes)
// - https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS50173 revoked grant,
//   AADSTS700025 secret from a public client, AADSTS900144 missing parameter)
// - https://learn.microsoft.com/entra/identity-platform/userinfo (UserInfo lives on Graph)
// - https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code (POST /{tenant}/oauth2/v2.0/devicecode
//   answers device_code, user_code, verification_uri https://microsoft.com/devicelogin, expires_in 900,
//   interval 5; polls of the token endpoint are answered HTTP 400 authorization_pending, expired_token or
//   bad_verification_code until the user signs in; the answer then carries an ID token of the user's tenant)
// - https://learn.microsoft.com/entra/identity-platform/claims-challenge (Conditional Access: a resource answers
//   401 with WWW-Authenticate error="insufficient_claims" and claims="<base64 JSON>", here an authentication
//   context `acrs` c1; the client signs in again with that JSON as the `claims` parameter, and the new tokens
//   satisfy it). Here the resource is a Graph-like GET /v1.0/me on the stand-in's origin.
// Its tenants are on one origin: /{tenant}/v2.0 for a single tenant, /common/v2.0 for many.
import { loopbackAnyPort, startStandin, type Standin, type StandinUser } from './standin.ts';

export async function startEntraStandin(options: { clientId: string; tenant: string; users: StandinUser[] }): Promise<Standin> {
  const base = `/${options.tenant}`;
  const multi = ['common', 'organizations', 'consumers'].includes(options.tenant);
  return startStandin(
    {
      clientId: options.clientId,
      issuerPath: `${base}/v2.0`,
      issuerOf: (user, issuer) => (multi ? issuer.replace(`${base}/v2.0`, `/${user.tenant ?? ''}/v2.0`) : issuer),
      discovery: (origin, issuer) => ({
        token_endpoint: `${origin}${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${origin}${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: multi ? `${origin}/{tenantid}/v2.0` : issuer,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${origin}/oidc/userinfo`,
        authorization_endpoint: `${origin}${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${origin}${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${origin}${base}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
        kerberos_endpoint: `${origin}${base}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      }),
      paths: { authorize: `${base}/oauth2/v2.0/authorize`, token: `${base}/oauth2/v2.0/token`, user: '/oidc/userinfo', jwks: `${base}/discovery/v2.0/keys`, deviceCode: `${base}/oauth2/v2.0/devicecode` },
      deviceFlow: {
        verificationUri: 'https://microsoft.com/devicelogin',
        expiresIn: 900,
        interval: 5,
        pending: { status: 400, json: { error: 'authorization_pending', error_description: 'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.', error_codes: [70016] } },
        expired: { status: 400, json: { error: 'expired_token', error_description: 'AADSTS70019: Verification code expired.', error_codes: [70019] } },
        unknownCode: { status: 400, json: { error: 'bad_verification_code', error_description: 'AADSTS70000: The provided device code is not valid.', error_codes: [70000] } },
      },
      redirectAccepted: (uri) => loopbackAnyPort(uri, '/callback'),
      issuesRefreshToken: (query) => (query.get('scope') ?? '').split(' ').includes('offline_access'),
      idToken: (scope) => scope.split(' ').includes('openid'),
      idTokenClaims: (user) => ({ tid: user.tenant, oid: user.sub, preferred_username: user.email, ver: '2.0' }),
      refreshRequestError: (body) =>
        body.has('scope') ? undefined : { status: 400, json: { error: 'invalid_request', error_description: "AADSTS900144: The request body must contain the following parameter: 'scope'.", error_codes: [900144] } },
      deadRefreshToken: {
        status: 400,
        json: { error: 'invalid_grant', error_description: 'AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.', error_codes: [50173], suberror: 'bad_token' },
      },
      badClient: { status: 401, json: { error: 'invalid_client', error_description: "AADSTS700025: Client is public so neither 'client_assertion' nor 'client_secret' should be presented.", error_codes: [700025] } },
      badCode: { status: 400, json: { error: 'invalid_grant', error_description: 'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.', error_codes: [70008] } },
      protectedResource: {
        path: '/v1.0/me',
        challenge: (claims) => (satisfiesAuthenticationContext(claims) ? undefined : CLAIMS_CHALLENGE),
      },
      rotation: 'keep-old',
      accessTokenSeconds: 3599,
      userBody: (user) => ({ sub: user.sub, name: user.name, email: user.email, given_name: user.name.split(' ')[0], family_name: user.name.split(' ').slice(1).join(' ') }),
    },
    options.users,
  );
}

/** The claims request of Microsoft's example: authentication context c1 (an `acrs` claim in the access token). */
export const ENTRA_CLAIMS_REQUEST = { access_token: { acrs: { essential: true, value: 'c1' } } };
/** The resource's answer while the token lacks it, as Microsoft's claims-challenge page shows it. */
export const CLAIMS_CHALLENGE = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="${Buffer.from(JSON.stringify(ENTRA_CLAIMS_REQUEST)).toString('base64')}"`;

function satisfiesAuthenticationContext(claims: string | undefined): boolean {
  try {
    const requested = JSON.parse(claims ?? '{}') as { access_token?: { acrs?: { value?: string; values?: string[] } } };
    const acrs = requested.access_token?.acrs;
    return acrs?.value === 'c1' || (acrs?.values ?? []).includes('c1');
  } catch {
    return false;
  }
}
