import * as oidc from 'openid-client';
import { isLoopbackHost, trustSettingsOf, type AuthConfig } from '../config/auth-config.ts';
import { assertDemoIsOurs } from '../config/demo-proof.ts';
import { classifyProviderError, discoveryError } from './answers.ts';
import { assertRedirectAccepted } from '../loopback/redirect-probe.ts';
import { createHttpClient, type HttpClient } from '../net/http.ts';
import { fingerprint, type Logger } from '../log.ts';
import { callbackUrlOf, redirectUriFor, startLoopbackServer, type ValidatedCallback } from '../loopback/listener.ts';
import type { SignInOutcome } from '../loopback/callback-pages.ts';
import type { Timers } from '../timers.ts';
import { fetchReportingRotation, type RotatedToken } from './token-answers.ts';
import { refusalsAsErrors } from './token-response.ts';
import { fetchReadingDeviceErrorsAnsweredWith200, pollDeviceSignIn, type DeviceSignInOptions } from './device-sign-in.ts';

export type { RotatedToken };
import { loadProviderConfiguration, type ProviderConfiguration } from './configuration.ts';
import { withUserTenant } from './entra-tenant.ts';
import { endSessionUrlFor, revokeAtProvider } from './logout.ts';
import type { DpopKey } from '../dpop/key.ts';
import { audienceParameters, openBrowser, profileAfterSignIn, throwIfCancelled, toTokenResult, untilCancelled, type FlowContext, type Opener, type TokenResult } from './flow-context.ts';
import { createProviderDpop } from './provider-dpop.ts';

/** Opens a URL in the user's browser: `shell.openExternal` in the app, `$BROWSER` in the CLI, Chromium in tests. */
export type { Opener, TokenResult } from './flow-context.ts';

export interface RefreshOptions {
  /**
   * Called as soon as the token response arrives with a rotated refresh token,
   * before the ID token is checked (JWKS fetch, signature, clock): the token
   * sent is spent from then on, whatever those checks say.
   */
  onRotated?: (rotated: RotatedToken) => void;
  /** The session's DPoP key: the refresh sends a proof with it (a bound refresh token needs one). */
  dpop?: DpopKey;
}

export interface SignInOptions {
  opener: Opener;
  /** How long the user has to finish in the browser (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bind the tokens to this key (RFC 9449 §10: `dpop_jkt` in the request, a proof with the code exchange). */
  dpop?: DpopKey;
}

export interface ProviderClient {
  /** The configured issuer identifier (normalized; the key of the keychain entry). */
  readonly issuer: string;
  /** The discovered authorization server metadata. */
  readonly metadata: Record<string, unknown>;
  /** The provider's preset documents DPoP support (providers/preset.ts `dpop`): one more reason to bind under `auto`. */
  readonly presetOffersDpop?: boolean;
  signIn(options: SignInOptions): Promise<TokenResult>;
  /** Sign-in with a code entered on any device (RFC 8628); `config_invalid` when the provider offers none. */
  signInWithDevice(options: DeviceSignInOptions & { dpop?: DpopKey }): Promise<TokenResult>;
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
    fetchReportingRotation(fetchReadingDeviceErrorsAnsweredWith200(refusalsAsErrors(http.fetch)), rotations, logger),
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

    async signInWithDevice({ dpop: key, ...options }: DeviceSignInOptions & { dpop?: DpopKey }): Promise<TokenResult> {
      // With a key, every token poll carries a proof from it (RFC 9449 §5), so the tokens are bound as after a browser sign-in.
      const proof = key ? { DPoP: dpop.handleFor(key) } : {};
      const response = await pollDeviceSignIn(configuration, { config, parameters: audienceParameters(config), clock, ...proof, ...(logger ? { logger } : {}) }, options);
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
        const parameters = { ...audienceParameters(config), ...(preset.scopeOnRefresh ? { scope: config.scope } : {}) };
        const proof = options.dpop ? { DPoP: dpop.handleFor(options.dpop) } : undefined;
        const response = await inUserTenant((tenantConfiguration) => oidc.refreshTokenGrant(tenantConfiguration, refreshToken, parameters, proof), 'refresh');
        logger?.debug('refreshed', { refreshToken: fingerprint(refreshToken), rotated: response.refresh_token !== undefined && response.refresh_token !== refreshToken });
        return toTokenResult(response, sentAt, connected.openid);
      } catch (error) {
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
 * The authorization code flow through the system browser and a loopback
 * redirect (RFC 8252 §7.3) with PKCE (RFC 7636) and, with a DPoP key,
 * `dpop_jkt` (RFC 9449 §10).
 */
async function signInThroughBrowser(flow: FlowContext, { opener, timeoutMs, signal, dpop: key }: SignInOptions): Promise<TokenResult> {
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
      ...(key ? { dpop_jkt: key.jkt } : {}),
      ...audienceParameters(config),
    });
    logger?.info('sign-in started', { port: server.port, state: fingerprint(state) });
    // The opener may never settle (a launcher that hangs); the callback, timeout and cancel still decide.
    const callbackArrival = server.waitForCallback();
    await Promise.race([openBrowser(opener, authorizationUrl.href), callbackArrival]);
    const callback = await callbackArrival;
    const tokens = await untilCancelled(
      exchangeCode(flow, callback, { state, nonce, verifier }, key).catch((error: unknown) => {
        throw classifyProviderError(error, { operation: 'sign-in' });
      }),
      signal,
    );
    const user = await profileAfterSignIn(tokens, flow, key);
    if (user) tokens.user = user;
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

async function exchangeCode(flow: FlowContext, callback: ValidatedCallback, checks: { state: string; nonce: string; verifier: string }, key: DpopKey | undefined): Promise<TokenResult> {
  const { config, provider } = flow;
  const sentAt = flow.clock();
  const expected = provider.openid ? { expectedNonce: checks.nonce, idTokenExpected: true } : {};
  const proof = key ? { DPoP: flow.dpop.handleFor(key) } : undefined;
  const response = await flow.inUserTenant(
    (tenantConfiguration) =>
      oidc.authorizationCodeGrant(tenantConfiguration, callbackUrlOf(callback), { pkceCodeVerifier: checks.verifier, expectedState: checks.state, ...expected }, config.resource !== undefined ? { resource: config.resource } : undefined, proof),
    'sign-in',
  );
  return toTokenResult(response, sentAt, provider.openid);
}
