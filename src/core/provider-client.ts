import * as oidc from 'openid-client';
import type { UserProfile } from '../shared/auth-state.ts';
import { isLoopbackHost, trustSettingsOf, type AuthConfig } from './config.ts';
import { AuthError } from './errors.ts';
import { assertDemoIsOurs } from './demo-proof.ts';
import { classifyProviderError, discoveryError, messageOf } from './provider-answers.ts';
import { assertRedirectAccepted } from './redirect-probe.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { fingerprint, type Logger } from './log.ts';
import { callbackUrlOf, redirectUriFor, startLoopbackServer, type ValidatedCallback } from './loopback-server.ts';
import type { SignInOutcome } from './callback-pages.ts';
import type { Timers } from './timers.ts';
import { profileFrom } from './userinfo.ts';
import { profileAfterSignIn } from './signed-in-profile.ts';
import { fetchReportingRotation, type RotatedToken } from './rotated-token.ts';
import { refusalsAsErrors } from './providers/token-response.ts';
import { fetchReadingDeviceErrorsAnsweredWith200, pollDeviceSignIn, type DeviceSignInOptions } from './device-sign-in.ts';

export type { RotatedToken };
import { loadProviderConfiguration, type ProviderConfiguration } from './providers/configuration.ts';
import { withUserTenant } from './providers/entra-tenant.ts';
import { endSessionUrlFor, revokeAtProvider } from './providers/provider-logout.ts';

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
}

export interface RefreshOptions {
  /**
   * Called as soon as the token response arrives with a rotated refresh token,
   * before the ID token is checked (JWKS fetch, signature, clock): the token
   * sent is spent from then on, whatever those checks say.
   */
  onRotated?: (rotated: RotatedToken) => void;
}

export interface SignInOptions {
  opener: Opener;
  /** How long the user has to finish in the browser (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProviderClient {
  /** The configured issuer identifier (normalized; the key of the keychain entry). */
  readonly issuer: string;
  /** The discovered authorization server metadata. */
  readonly metadata: Record<string, unknown>;
  signIn(options: SignInOptions): Promise<TokenResult>;
  /** Sign-in with a code entered on any device (RFC 8628); `config_invalid` when the provider offers none. */
  signInWithDevice(options: DeviceSignInOptions): Promise<TokenResult>;
  refresh(refreshToken: string, options?: RefreshOptions): Promise<TokenResult>;
  /** Ends the session at the provider (RFC 7009, or the preset's own way); `kind` says which token it is (default a refresh token). */
  revoke(token: string, kind?: 'refresh_token' | 'access_token'): Promise<void>;
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
  // GitHub's 200-with-error becomes the 400 it means before anything reads the answer.
  const providerFetch = fetchReportingRotation(fetchReadingDeviceErrorsAnsweredWith200(refusalsAsErrors(http.fetch)), rotations, logger);
  let provider: ProviderConfiguration;
  try {
    provider = await loadProviderConfiguration(config, { fetch: providerFetch, insecure: loopbackHttp });
  } catch (error) {
    throw discoveryError(config, error);
  }
  const { configuration, metadata, preset } = provider;
  logger?.debug('provider discovered', { issuer: config.issuer, demo: config.usesDemoProvider, preset: preset.name, discovery: provider.openid });
  const flow: FlowContext = { config, provider, http, providerFetch, clock, ...(logger ? { logger } : {}), ...(deps.timers ? { timers: deps.timers } : {}) };

  return {
    issuer: config.issuer,
    metadata,
    redirectUriFor: (port) => redirectUriFor(port, config.redirectHost),

    signIn: (options: SignInOptions) => signInThroughBrowser(flow, options),

    async signInWithDevice(options: DeviceSignInOptions): Promise<TokenResult> {
      const response = await pollDeviceSignIn(configuration, { config, parameters: audienceParameters(config), clock, ...(logger ? { logger } : {}) }, options);
      return withProfile(flow, toTokenResult(response, clock(), provider.openid));
    },

    async refresh(refreshToken: string, options: RefreshOptions = {}): Promise<TokenResult> {
      const sentAt = clock();
      const { onRotated } = options;
      if (onRotated) rotations.set(refreshToken, (rotated) => onRotated(rotated.expiresAt === undefined ? rotated : { ...rotated, expiresAt: sentAt + rotated.expiresAt * 1000 }));
      try {
        // Entra wants the scope on every refresh (AADSTS90009 without it).
        const parameters = { ...audienceParameters(config), ...(preset.scopeOnRefresh ? { scope: config.scope } : {}) };
        const response = await inUserTenant(flow, (tenantConfiguration) => oidc.refreshTokenGrant(tenantConfiguration, refreshToken, parameters), 'refresh');
        logger?.debug('refreshed', { refreshToken: fingerprint(refreshToken), rotated: response.refresh_token !== undefined && response.refresh_token !== refreshToken });
        return toTokenResult(response, sentAt, provider.openid);
      } catch (error) {
        throw classifyProviderError(error, { operation: 'refresh' });
      } finally {
        rotations.delete(refreshToken);
      }
    },

    async revoke(token: string, kind: 'refresh_token' | 'access_token' = 'refresh_token'): Promise<void> {
      try {
        await revokeAtProvider(provider, config, token, kind, http);
      } catch (error) {
        throw classifyProviderError(error, { operation: 'revocation' });
      }
    },

    endSessionUrl(): string | undefined {
      return endSessionUrlFor(provider, config);
    },
  };
}

/** What the flows below share: one discovered provider and the transport, clock and logger they run on. */
interface FlowContext {
  config: AuthConfig;
  provider: ProviderConfiguration;
  http: HttpClient;
  /** The token endpoint's fetch (GitHub's 200-with-error as a 400, rotation reports). */
  providerFetch: oidc.CustomFetch;
  clock: () => number;
  logger?: Logger;
  timers?: Timers;
}

/** Runs a token request against the user's tenant where the preset has them (Entra's {tenantid}), else the provider itself. */
function inUserTenant<T>(flow: FlowContext, run: (tenantConfiguration: oidc.Configuration) => Promise<T>, operation: 'sign-in' | 'refresh'): Promise<T> {
  return withUserTenant(flow.provider, flow.config.allowedTenants, flow.providerFetch, run, operation);
}

/**
 * The browser sign-in of a native app (RFC 8252 §7.3 loopback redirect, RFC
 * 7636 PKCE, https://www.rfc-editor.org/rfc/rfc8252): listens on loopback,
 * opens the authorization page, exchanges the code the callback brings.
 */
async function signInThroughBrowser(flow: FlowContext, { opener, timeoutMs, signal }: SignInOptions): Promise<TokenResult> {
  const { config, provider, http, logger } = flow;
  const { configuration, metadata, preset } = provider;
  throwIfCancelled(signal);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeChallenge = await oidc.calculatePKCECodeChallenge(verifier);
  const server = await startLoopbackServer({
    port: config.redirectPort,
    redirectHost: config.redirectHost,
    expectedState: state,
    expectedIssuer: { issuer: configuration.serverMetadata().issuer, required: metadata.authorization_response_iss_parameter_supported === true },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(signal ? { signal } : {}),
    ...(logger ? { logger } : {}),
    ...(flow.timers ? { timers: flow.timers } : {}),
  });
  let outcome: SignInOutcome | undefined;
  try {
    // Before any browser opens: a provider that refuses this redirect URI would show its error page and never call back.
    await untilCancelled(assertRedirectAccepted(config, configuration.serverMetadata().authorization_endpoint as string, server.redirectUri, http), signal);
    const authorizationUrl = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: server.redirectUri,
      scope: config.scope,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      ...(provider.openid ? { nonce } : {}),
      ...(config.prompt !== undefined ? { prompt: config.prompt } : {}),
      ...preset.authorizationParameters,
      ...audienceParameters(config),
    });
    logger?.info('sign-in started', { port: server.port, state: fingerprint(state) });
    // The opener may never settle (a launcher that hangs); the callback, timeout and cancel still decide.
    const callbackArrival = server.waitForCallback();
    await Promise.race([openBrowser(opener, authorizationUrl.href), callbackArrival]);
    const callback = await callbackArrival;
    const tokens = await untilCancelled(
      exchangeCode(flow, callback, { state, nonce, verifier }).catch((error: unknown) => {
        throw classifyProviderError(error, { operation: 'sign-in' });
      }),
      signal,
    );
    await withProfile(flow, tokens);
    logger?.info('sign-in completed', { sub: tokens.user?.sub, accessToken: fingerprint(tokens.accessToken) });
    outcome = { ok: true };
    return tokens;
  } catch (error) {
    outcome = { ok: false, error };
    throw error;
  } finally {
    if (outcome) server.complete(outcome);
    await server.close();
  }
}

/** Exchanges the callback's code (RFC 6749 §4.1.3) with the PKCE verifier, state and nonce checks. */
async function exchangeCode(flow: FlowContext, callback: ValidatedCallback, checks: { state: string; nonce: string; verifier: string }): Promise<TokenResult> {
  const { config, provider } = flow;
  const sentAt = flow.clock();
  const expected = provider.openid ? { expectedNonce: checks.nonce, idTokenExpected: true } : {};
  const response = await inUserTenant(
    flow,
    (tenantConfiguration) =>
      oidc.authorizationCodeGrant(tenantConfiguration, callbackUrlOf(callback), { pkceCodeVerifier: checks.verifier, expectedState: checks.state, ...expected }, config.resource !== undefined ? { resource: config.resource } : undefined),
    'sign-in',
  );
  return toTokenResult(response, sentAt, provider.openid);
}

/** The tokens with the signed-in user's profile set (see profileAfterSignIn). */
async function withProfile(flow: FlowContext, tokens: TokenResult): Promise<TokenResult> {
  const user = await profileAfterSignIn(tokens, { provider: flow.provider, config: flow.config, http: flow.http, logger: flow.logger });
  if (user) tokens.user = user;
  return tokens;
}

/** The token response as the session keeps it; the user from the ID token's claims where there is one. */
function toTokenResult(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, sentAt: number, openid: boolean): TokenResult {
  const result: TokenResult = { accessToken: response.access_token };
  if (response.refresh_token) result.refreshToken = response.refresh_token;
  if (response.id_token) result.idToken = response.id_token;
  if (typeof response.expires_in === 'number') result.expiresAt = sentAt + response.expires_in * 1000;
  if (response.scope) result.scope = response.scope;
  const claims = openid ? response.claims() : undefined;
  if (claims) result.user = profileFrom(claims);
  return result;
}

/** Auth0's `audience` and RFC 8707's `resource`, where configured. */
function audienceParameters(config: AuthConfig): Record<string, string> {
  return { ...(config.audience !== undefined ? { audience: config.audience } : {}), ...(config.resource !== undefined ? { resource: config.resource } : {}) };
}

async function openBrowser(opener: Opener, url: string): Promise<void> {
  try {
    await opener(url);
  } catch (error) {
    throw new AuthError('browser_unavailable', `The browser could not be opened (${messageOf(error)}). Set $BROWSER to your browser's command, or open the sign-in page yourself.`, { cause: error });
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AuthError('login_cancelled', 'The sign-in was cancelled.');
}

function untilCancelled<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfCancelled(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AuthError('login_cancelled', 'The sign-in was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
