// What the flows of one connected provider share: the context they run in (FlowContext), the token
// response as the session keeps it (TokenResult), the audience parameters, and cancellation.
import type * as oidc from 'openid-client';
import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { ApiConfig } from '../config/apis.ts';
import type { ProviderPreset } from '../presets/preset.ts';
import { AuthError } from '../errors.ts';
import type { HttpClient } from '../net/http.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Timers } from '../timers.ts';
import { profileFrom } from './profile.ts';
import type { ProviderConfiguration } from './configuration.ts';
import type { ProviderDpop } from './provider-dpop.ts';

/** Opens a URL in the user's browser: `shell.openExternal` in the app, `$BROWSER` in the CLI, Chromium in tests. */
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
  /** How and when the user signed in, from the validated ID token (`acr`, `auth_time` in epoch seconds): what an API's step-up challenge is judged against (RFC 9470). */
  signedInWith?: SignedInWith;
}

/** How and when the user signed in: OpenID Connect's `acr`, and `auth_time` in epoch seconds. */
export interface SignedInWith {
  acr?: string;
  authTime?: number;
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

/** The token response as the session keeps it; the user from the ID token's claims where there is one. */
export function toTokenResult(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, sentAt: number, openid: boolean): TokenResult {
  const result: TokenResult = { accessToken: response.access_token, tokenType: response.token_type === 'dpop' ? 'dpop' : 'bearer' };
  if (response.refresh_token) result.refreshToken = response.refresh_token;
  if (response.id_token) result.idToken = response.id_token;
  if (typeof response.expires_in === 'number') result.expiresAt = sentAt + response.expires_in * 1000;
  if (response.scope) result.scope = response.scope;
  const claims = openid ? response.claims() : undefined;
  if (claims) result.user = profileFrom(claims);
  if (claims && (typeof claims.acr === 'string' || typeof claims.auth_time === 'number')) {
    result.signedInWith = { ...(typeof claims.acr === 'string' ? { acr: claims.acr } : {}), ...(typeof claims.auth_time === 'number' ? { authTime: claims.auth_time } : {}) };
  }
  return result;
}

/** Auth0's `audience` and RFC 8707's `resource` of the first API, where configured; with several APIs by resource, the first one's resource. */
export function audienceParameters(config: AuthConfig, preset: Pick<ProviderPreset, 'apiTokens'>): Record<string, string> {
  const resource = config.resource ?? (resourcesToAuthorize(config, preset).length > 0 ? resourceOf(config.apis[0]!) : undefined);
  return { ...(config.audience !== undefined ? { audience: config.audience } : {}), ...(resource !== undefined ? { resource } : {}) };
}

/**
 * The `resource` values the authorization request names beside `audienceParameters`: with several APIs at a
 * provider that takes RFC 8707 resource indicators, every API's (§2.1), so that the one grant covers each and
 * a refresh can then ask for one of them (§2.2); otherwise none.
 */
export function resourcesToAuthorize(config: Pick<AuthConfig, 'apis' | 'resource'>, preset: Pick<ProviderPreset, 'apiTokens'>): string[] {
  if (preset.apiTokens.by !== 'resource' || config.apis.length < 2) return [];
  return [...new Set(config.apis.map(resourceOf))].filter((resource) => resource !== undefined && resource !== config.resource) as string[];
}

/**
 * What a refresh for `api` sends so that its access token is for that API (RFC 8707 §2.2 `resource`, Auth0's
 * `audience`, or the API's scopes), as the provider's preset says it wants it asked.
 */
export function apiTokenParameters(api: ApiConfig, preset: Pick<ProviderPreset, 'apiTokens'>): Record<string, string> {
  const parameters: Record<string, string> = {};
  const by = preset.apiTokens.by;
  const identifier = by === 'resource' ? resourceOf(api) : by === 'audience' ? (api.audience ?? api.resource) : undefined;
  if (identifier !== undefined) parameters[by] = identifier;
  if (api.scope !== undefined) parameters.scope = api.scope;
  return parameters;
}

/** An API's RFC 8707 resource indicator: its `resource`, else its `audience` (which names the same thing at a provider that takes resources). */
function resourceOf(api: ApiConfig): string | undefined {
  return api.resource ?? api.audience;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuthError('sign_in_cancelled', 'The sign-in was cancelled.');
}

export function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AuthError('sign_in_cancelled', 'The sign-in was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
