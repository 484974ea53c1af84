// What the flows of one connected provider share: the context they run in (FlowContext), the token
// response as the session keeps it (TokenResult), the audience parameters, and cancellation.
import type * as oidc from 'openid-client';
import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
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
  return result;
}

/** Auth0's `audience` and RFC 8707's `resource`, where configured. */
export function audienceParameters(config: AuthConfig): Record<string, string> {
  return { ...(config.audience !== undefined ? { audience: config.audience } : {}), ...(config.resource !== undefined ? { resource: config.resource } : {}) };
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
