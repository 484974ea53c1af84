import * as oidc from 'openid-client';
import type { AuthConfig } from '../config/auth-config.ts';
import type { HttpClient } from '../net/http.ts';
import type { ProviderConfiguration } from './configuration.ts';

/**
 * Ends a session at the provider the way its preset says: RFC 7009 (`token`
 * with `token_type_hint`), or GitHub's `DELETE /applications/{client_id}/token`
 * with the app's credentials as HTTP Basic and the access token in a JSON body
 * (docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token).
 * GitHub revokes access tokens only: given a refresh token, it is redeemed
 * first for the access token to delete (it is forgotten here anyway). Throws
 * what openid-client throws, or an error carrying the `Response` of a refusal.
 */
export async function revokeAtProvider(
  provider: ProviderConfiguration,
  config: Pick<AuthConfig, 'clientId' | 'clientSecret'>,
  token: string,
  kind: 'refresh_token' | 'access_token',
  http: Pick<HttpClient, 'fetch'>,
): Promise<void> {
  const endpoint = provider.metadata.revocation_endpoint;
  if (typeof endpoint !== 'string') return;
  if (provider.preset.revocation !== 'github') {
    await oidc.tokenRevocation(provider.configuration, token, { token_type_hint: kind });
    return;
  }
  const accessToken = kind === 'access_token' ? token : (await oidc.refreshTokenGrant(provider.configuration, token)).access_token;
  const url = endpoint.replace('{client_id}', encodeURIComponent(config.clientId));
  const basic = Buffer.from(`${config.clientId}:${config.clientSecret ?? ''}`).toString('base64');
  const response = await http.fetch(url, {
    method: 'DELETE',
    headers: { authorization: `Basic ${basic}`, accept: 'application/vnd.github+json', 'content-type': 'application/json', 'user-agent': 'Latchkey' },
    body: JSON.stringify({ access_token: accessToken }),
  });
  await response.body?.cancel();
  if (response.status !== 204 && response.status !== 200) {
    throw Object.assign(new Error(`unexpected HTTP status code`), { code: 'OAUTH_RESPONSE_IS_NOT_CONFORM', cause: response });
  }
}

/**
 * The provider's browser logout for this client, without an ID token:
 * RP-Initiated Logout 1.0 with `client_id` (and `post_logout_redirect_uri` when
 * one is registered); Cognito's `/logout?client_id&logout_uri` on the domain of
 * its authorization endpoint, which needs a registered sign-out URL
 * (docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html);
 * undefined where the provider has none.
 */
export function endSessionUrlFor(provider: ProviderConfiguration, config: Pick<AuthConfig, 'clientId' | 'postLogoutRedirectUri'>): string | undefined {
  const { preset, metadata } = provider;
  if (preset.logout === 'none') return undefined;
  if (preset.logout === 'cognito') {
    if (!config.postLogoutRedirectUri || typeof metadata.authorization_endpoint !== 'string') return undefined;
    const url = new URL('/logout', metadata.authorization_endpoint);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('logout_uri', config.postLogoutRedirectUri);
    return url.href;
  }
  if (typeof metadata.end_session_endpoint !== 'string') return undefined;
  // No id_token_hint: this URL is a browser's command-line argument (readable by other users
  // through /proc on Linux) and lands in its history. RP-Initiated Logout 1.0 §2 lets client_id
  // identify the client instead, and post_logout_redirect_uri is sent only when one is registered.
  const parameters: Record<string, string> = { client_id: config.clientId };
  if (config.postLogoutRedirectUri) parameters.post_logout_redirect_uri = config.postLogoutRedirectUri;
  return oidc.buildEndSessionUrl(provider.configuration, parameters).href;
}
