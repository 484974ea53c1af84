/**
 * What the flows of one connected provider share (FlowContext) and the small
 * steps the sign-in and refresh flows in provider-client.ts are built from:
 * the profile after sign-in, the token response as the session keeps it,
 * audience parameters, error classification, opening the browser, cancellation.
 */
import * as oidc from 'openid-client';
import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError } from '../errors.ts';
import { classifyProviderError, messageOf } from './answers.ts';
import type { HttpClient } from '../net/http.ts';
import type { Logger } from '../log.ts';
import type { Timers } from '../timers.ts';
import { profileFrom, withUserInfo } from './profile.ts';
import type { ProviderConfiguration } from './configuration.ts';
import { fetchUserProfile } from './user-endpoint.ts';
import type { DpopKey } from '../dpop/key.ts';
import type { ProviderDpop } from './provider-dpop.ts';

export type Opener = (url: string) => Promise<void>;

export interface TokenResult {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch ms, from `expires_in` and the injected clock (taken when the request was sent). */
  expiresAt?: number;
  scope?: string;
  /** From the validated ID token's claims; after sign-in, with UserInfo's over them (see withUserInfo). */
  user?: UserProfile;
  /** `dpop` when the access token is bound to the session's key (RFC 9449 §5), else `bearer`. */
  tokenType?: 'dpop' | 'bearer';
}

/** What the flows of one connected provider share. */
export interface FlowContext {
  config: AuthConfig;
  provider: ProviderConfiguration;
  http: HttpClient;
  clock(): number;
  dpop: ProviderDpop;
  /** Runs a token request against the user's tenant where the issuer is Entra's multi-tenant template. */
  inUserTenant<T>(run: (tenantConfiguration: oidc.Configuration) => Promise<T>, operation: 'sign-in' | 'refresh'): Promise<T>;
  logger?: Logger;
  timers?: Timers;
}

/**
 * Who signed in: with an ID token, its claims with UserInfo's over them
 * (`withUserInfo`); without one (GitHub, plain OAuth 2.0), the provider's user
 * endpoint, which must name the user.
 */
export async function profileAfterSignIn(tokens: TokenResult, flow: FlowContext, key?: DpopKey): Promise<UserProfile | undefined> {
  const { provider, config, http, logger } = flow;
  const endpoint = typeof provider.metadata.userinfo_endpoint === 'string' ? provider.metadata.userinfo_endpoint : undefined;
  if (!provider.openid) {
    if (!endpoint) return undefined;
    const profile = await fetchUserProfile(endpoint, tokens.accessToken, provider.preset, http).catch(throwAs('sign-in'));
    if (!profile) throw new AuthError('provider_error', `The provider signed you in, but its user endpoint ${endpoint} did not say who you are. Check AUTH_USERINFO_ENDPOINT.`);
    return profile;
  }
  if (!tokens.user) return undefined;
  const fetchClaims = async (accessToken: string) => ({ ...(await oidc.fetchUserInfo(provider.configuration, accessToken, oidc.skipSubjectCheck, key ? { DPoP: flow.dpop.handleFor(key) } : undefined)) });
  return withUserInfo(tokens.user, tokens.accessToken, { config, endpoint, fetchClaims, logger });
}

/** The token response as the session keeps it; the user from the ID token's claims where there is one. */
export function toTokenResult(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, sentAt: number, openid: boolean): TokenResult {
  const result: TokenResult = { accessToken: response.access_token, tokenType: response.token_type === 'dpop' ? 'dpop' : 'bearer' };
  if (response.refresh_token) result.refreshToken = response.refresh_token;
  if (response.id_token) result.idToken = response.id_token;
  if (typeof response.expires_in === 'number') result.expiresAt = sentAt + response.expires_in * 1000;
  if (response.scope) result.scope = response.scope;
  const claims = openid ? response.claims() : undefined;
  if (claims) result.user = profileFrom(claims);
  return result;
}

/** Auth0's `audience` and RFC 8707's `resource`, where configured. */
export function audienceParameters(config: AuthConfig): Record<string, string> {
  return { ...(config.audience !== undefined ? { audience: config.audience } : {}), ...(config.resource !== undefined ? { resource: config.resource } : {}) };
}

export function throwAs(operation: 'sign-in' | 'refresh'): (error: unknown) => never {
  return (error) => {
    throw classifyProviderError(error, { operation });
  };
}

export async function openBrowser(opener: Opener, url: string): Promise<void> {
  try {
    await opener(url);
  } catch (error) {
    throw new AuthError('browser_unavailable', `The browser could not be opened (${messageOf(error)}). Set $BROWSER to your browser's command, or open the sign-in page yourself.`, { cause: error });
  }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuthError('login_cancelled', 'The sign-in was cancelled.');
}

export function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AuthError('login_cancelled', 'The sign-in was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
