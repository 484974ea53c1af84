import * as oidc from 'openid-client';
import type { UserProfile } from '../shared/auth-state.ts';
import type { AuthConfig } from './config.ts';
import { AuthError } from './errors.ts';
import type { HttpClient } from './http.ts';
import type { Logger } from './log.ts';
import { classifyProviderError } from './provider-answers.ts';
import type { ProviderConfiguration } from './providers/configuration.ts';
import { fetchUserProfile } from './providers/user-endpoint.ts';
import { withUserInfo } from './userinfo.ts';

/**
 * Who signed in: with an ID token, its claims with UserInfo's over them
 * (`withUserInfo`, OpenID Connect Core §5.3,
 * https://openid.net/specs/openid-connect-core-1_0.html#UserInfo); without one
 * (GitHub, plain OAuth 2.0), the provider's user endpoint, which must name the user.
 */
export async function profileAfterSignIn(tokens: { accessToken: string; user?: UserProfile }, deps: { provider: ProviderConfiguration; config: AuthConfig; http: HttpClient; logger: Logger | undefined }): Promise<UserProfile | undefined> {
  const { provider, config, http, logger } = deps;
  const endpoint = typeof provider.metadata.userinfo_endpoint === 'string' ? provider.metadata.userinfo_endpoint : undefined;
  if (!provider.openid) {
    if (!endpoint) return undefined;
    const profile = await fetchUserProfile(endpoint, tokens.accessToken, provider.preset, http).catch(throwAs('sign-in'));
    if (!profile) throw new AuthError('provider_error', `The provider signed you in, but its user endpoint ${endpoint} did not say who you are. Check AUTH_USERINFO_ENDPOINT.`);
    return profile;
  }
  if (!tokens.user) return undefined;
  const fetchClaims = async (accessToken: string) => ({ ...(await oidc.fetchUserInfo(provider.configuration, accessToken, oidc.skipSubjectCheck)) });
  return withUserInfo(tokens.user, tokens.accessToken, { config, endpoint, fetchClaims, logger });
}

function throwAs(operation: 'sign-in' | 'refresh'): (error: unknown) => never {
  return (error) => {
    throw classifyProviderError(error, { operation });
  };
}
