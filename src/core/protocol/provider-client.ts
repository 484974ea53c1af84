import * as oidc from 'openid-client';
import { trustSettingsOf, type AuthConfig } from '../config/auth-config.ts';
import type { ApiConfig } from '../config/apis.ts';
import { AuthError } from '../errors.ts';
import { isLoopbackHost } from '../config/values.ts';
import { assertDemoIsOurs } from '../config/demo-proof.ts';
import { inertText } from '../../shared/inert-text.ts';
import { classifyProviderError, discoveryError } from './answers.ts';
import { createHttpClient, type HttpClient } from '../net/http.ts';
import { fingerprint } from '../log.ts';
import type { Logger } from '../../shared/logger.ts';
import { redirectUriFor } from '../loopback/listener.ts';
import type { Timers } from '../timers.ts';
import { fetchReportingRotation, refusalsAsErrors, type RotatedToken } from './token-answers.ts';
import { pollDeviceSignIn, type DeviceSignInOptions } from './device-sign-in.ts';
import { loadProviderConfiguration, type ProviderConfiguration } from './configuration.ts';
import { withUserTenant } from './entra-tenant.ts';
import { endSessionUrlFor, revokeAtProvider } from './logout.ts';
import type { DpopKey } from '../dpop/key.ts';
import { apiTokenParameters, audienceParameters, resourcesToAuthorize, toTokenResult, type FlowContext, type TokenResult } from './flow-context.ts';
import { profileAfterSignIn } from './profile.ts';
import { signInThroughBrowser, type BrowserSignInOptions } from './browser-sign-in.ts';
import { createProviderDpop } from './provider-dpop.ts';

export interface RefreshOptions {
  /**
   * Called as soon as the token response arrives with a rotated refresh token,
   * before the ID token is checked (JWKS fetch, signature, clock): the token
   * sent is spent from then on, whatever those checks say.
   */
  onRotated?: (rotated: RotatedToken) => void;
  /** The session's DPoP key: the refresh sends a proof with it (a bound refresh token needs one). */
  dpop?: DpopKey;
  /** An API after the first: the refresh asks a token for it (`apiTokenParameters`) instead of the sign-in's. */
  api?: ApiConfig;
}

export interface ProviderClient {
  /** The configured issuer identifier (normalized; the key of the keychain entry). */
  readonly issuer: string;
  /** The discovered authorization server metadata. */
  readonly metadata: Record<string, unknown>;
  /** The provider's preset documents DPoP support (providers/preset.ts `dpop`): one more reason to bind under `auto`. */
  readonly presetOffersDpop?: boolean;
  signIn(options: BrowserSignInOptions): Promise<TokenResult>;
  /** Sign-in with a code entered on any device (RFC 8628); `config_invalid` when the provider offers none. */
  deviceSignIn(options: DeviceSignInOptions & { dpop?: DpopKey }): Promise<TokenResult>;
  refresh(refreshToken: string, options?: RefreshOptions): Promise<TokenResult>;
  /**
   * Ends the session at the provider (RFC 7009, or the preset's own way), with a proof from the session's DPoP key when the
   * token is bound to it; `kind` says which token it is (default a refresh token).
   */
  revoke(token: string, dpop?: DpopKey, kind?: 'refresh_token' | 'access_token'): Promise<void>;
  /** The provider's end-session page for this client, without an ID token; undefined when it has none. */
  endSessionUrl(): string | undefined;
  redirectUriFor(port: number): string;
}

export interface ProviderDeps {
  /** The transport; one is created (and never closed) when none is given. */
  http?: HttpClient;
  clock?: () => number;
  logger?: Logger;
  /** The sign-in timeout runs on these. */
  timers?: Timers;
}

/**
 * Discovers the provider once (OpenID Connect Discovery 1.0 / RFC 8414), or
 * takes its endpoints from the preset and settings where it has no discovery,
 * and returns the client of a native app (RFC 8252: PKCE; no client secret
 * unless the provider insists, see providers/configuration.ts), shaped by the
 * provider's preset (src/core/providers/). Plain http is allowed only when the
 * issuer and every endpoint are on loopback. ID token signatures are checked
 * against the provider's JWKS, not only trusted because they came over TLS.
 * Throws `provider_unreachable` when discovery fails.
 */
export async function connectProvider(config: AuthConfig, deps: ProviderDeps = {}): Promise<ProviderClient> {
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger;
  const http = deps.http ?? createHttpClient(trustSettingsOf(config));
  const issuerUrl = new URL(config.issuer);
  const loopbackHttp = issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname);

  const rotations = new Map<string, (rotated: RotatedToken) => void>();
  if (config.usesDemoProvider && config.demoDataDir) await assertDemoIsOurs(config.issuer, config.demoDataDir, http.fetch);
  let provider: ProviderConfiguration | undefined;
  const dpop = createProviderDpop(() => provider!.configuration);
  // GitHub's 200-with-error becomes the 400 it means before anything reads the answer.
  const providerFetch = dpop.wrapFetch(
    fetchReportingRotation(refusalsAsErrors(http.fetch), rotations, logger),
    () => provider?.configuration.serverMetadata().revocation_endpoint,
  );
  try {
    provider = await loadProviderConfiguration(config, { fetch: providerFetch, insecure: loopbackHttp });
  } catch (error) {
    throw discoveryError(config, error);
  }
  const connected: ProviderConfiguration = provider;
  const { configuration, metadata, preset } = connected;
  logger?.debug('provider discovered', { issuer: config.issuer, demo: config.usesDemoProvider, preset: preset.name, discovery: connected.openid });
  const inUserTenant = <T>(run: (tenantConfiguration: oidc.Configuration) => Promise<T>, operation: 'sign-in' | 'refresh') => withUserTenant(connected, config.allowedTenants, providerFetch, run, operation);
  const flow: FlowContext = { config, provider: connected, http, clock, dpop, inUserTenant, ...(logger ? { logger } : {}), ...(deps.timers ? { timers: deps.timers } : {}) };

  return {
    issuer: config.issuer,
    metadata,
    presetOffersDpop: preset.dpop === true,
    redirectUriFor: (port) => redirectUriFor(port, config.redirectHost),
    signIn: (options) => signInThroughBrowser(flow, options),

    async deviceSignIn({ dpop: key, ...options }: DeviceSignInOptions & { dpop?: DpopKey }): Promise<TokenResult> {
      // With a key, every token poll carries a proof from it (RFC 9449 §5), so the tokens are bound as after a browser sign-in.
      const proof = key ? { DPoP: await dpop.handleFor(key) } : {};
      // The answer is checked like the browser sign-in's: for Entra's common/organizations, against the user's tenant and the allow-list.
      const inTenant = <T>(run: (tenantConfiguration: oidc.Configuration) => Promise<T>) => inUserTenant(run, 'sign-in');
      const response = await pollDeviceSignIn(
        configuration,
        { config, parameters: audienceParameters(config, preset), resources: resourcesToAuthorize(config, preset), clock, inUserTenant: inTenant, ...proof, ...(logger ? { logger } : {}) },
        options,
      );
      const tokens = toTokenResult(response, clock(), connected.openid);
      const user = await profileAfterSignIn(tokens, flow, key);
      if (user) tokens.user = user;
      return tokens;
    },

    async refresh(refreshToken: string, options: RefreshOptions = {}): Promise<TokenResult> {
      const sentAt = clock();
      const { onRotated } = options;
      if (onRotated) rotations.set(refreshToken, (rotated) => onRotated(rotated.expiresAt === undefined ? rotated : { ...rotated, expiresAt: sentAt + rotated.expiresAt * 1000 }));
      try {
        // Entra wants the scope on every refresh (AADSTS90009 without it).
        const scope: Record<string, string> = preset.scopeOnRefresh ? { scope: config.scope } : {};
        const parameters = options.api ? { ...scope, ...apiTokenParameters(options.api, preset) } : { ...audienceParameters(config, preset), ...scope };
        const proof = options.dpop ? { DPoP: await dpop.handleFor(options.dpop) } : undefined;
        const response = await inUserTenant((tenantConfiguration) => oidc.refreshTokenGrant(tenantConfiguration, refreshToken, parameters, proof), 'refresh');
        logger?.debug('refreshed', { refreshToken: fingerprint(refreshToken), rotated: response.refresh_token !== undefined && response.refresh_token !== refreshToken });
        return toTokenResult(response, sentAt, connected.openid);
      } catch (error) {
        if (options.api) refusedForApi(error, options.api);
        throw classifyProviderError(error, { operation: 'refresh' });
      } finally {
        rotations.delete(refreshToken);
      }
    },

    async revoke(token: string, key?: DpopKey, kind: 'refresh_token' | 'access_token' = 'refresh_token'): Promise<void> {
      if (key) dpop.proveRevocation(token, key);
      try {
        await revokeAtProvider(connected, config, token, kind, http);
      } catch (error) {
        throw classifyProviderError(error, { operation: 'revocation' });
      } finally {
        dpop.forget(token);
      }
    },

    endSessionUrl(): string | undefined {
      return endSessionUrlFor(connected, config);
    },
  };
}


/**
 * A refresh for one API that the provider refuses because of that API — a resource or scope the sign-in was not
 * granted (RFC 8707 §2 `invalid_target`, RFC 6749 §5.2 `invalid_scope`) — leaves the session alone: the refresh
 * token is good, the API's settings are not.
 */
function refusedForApi(error: unknown, api: ApiConfig): void {
  const code = error instanceof oidc.ResponseBodyError ? error.error : undefined;
  if (code !== 'invalid_target' && code !== 'invalid_scope') return;
  const description = (error as oidc.ResponseBodyError).error_description;
  const described = `${code}${description ? ` — ${inertText(description)}` : ''}`;
  throw new AuthError(
    'config_invalid',
    `The provider refused a token for the API "${api.name}" (${described}): the sign-in was not granted what the API's settings in "apis" ask for. Check its resource, audience or scope; after changing them, sign in again. Your session is kept.`,
    { cause: error },
  );
}
