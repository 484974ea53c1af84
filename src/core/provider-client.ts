import * as oidc from 'openid-client';
import type { UserProfile } from '../shared/auth-state.ts';
import { isLoopbackHost, trustSettingsOf, type AuthConfig } from './config.ts';
import { AuthError } from './errors.ts';
import { assertDemoIsOurs } from './demo-proof.ts';
import type { DpopKey } from './dpop.ts';
import { createProviderDpop, type ProviderDpop } from './dpop-provider.ts';
import { classifyProviderError, discoveryError, messageOf } from './provider-answers.ts';
import { assertRedirectAccepted } from './redirect-probe.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { fingerprint, type Logger } from './log.ts';
import { callbackUrlOf, redirectUriFor, startLoopbackServer, type ValidatedCallback } from './loopback-server.ts';
import type { SignInOutcome } from './callback-pages.ts';
import type { Timers } from './timers.ts';
import { profileFrom, withUserInfo } from './userinfo.ts';
import { fetchReportingRotation, type RotatedToken } from './rotated-token.ts';
import { fetchReadingDeviceErrorsAnsweredWith200, pollDeviceSignIn, type DeviceSignInOptions } from './device-sign-in.ts';

export type { RotatedToken };

/** Opens a URL in the user's browser: `shell.openExternal` in the app, `$BROWSER` in the CLI, Chromium in tests. */
export type Opener = (url: string) => Promise<void>;

export interface TokenResult {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Epoch ms, from `expires_in` and the injected clock (taken when the request was sent). */
  expiresAt?: number;
  scope?: string;
  /** `dpop` when the access token is bound to the session's key (RFC 9449 §5), else `bearer`. */
  tokenType?: 'dpop' | 'bearer';
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
  signIn(options: SignInOptions): Promise<TokenResult>;
  /** Sign-in with a code entered on any device (RFC 8628); `config_invalid` when the provider offers none. */
  signInWithDevice(options: DeviceSignInOptions): Promise<TokenResult>;
  refresh(refreshToken: string, options?: RefreshOptions): Promise<TokenResult>;
  /** With the session's DPoP key, when the token is bound to it. */
  revoke(refreshToken: string, dpop?: DpopKey): Promise<void>;
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

const METADATA_URL_FIELDS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'revocation_endpoint', 'end_session_endpoint', 'userinfo_endpoint'];

/**
 * Discovers the provider once (OpenID Connect Discovery 1.0 / RFC 8414) and
 * returns the client of a public native app (RFC 8252: no client secret,
 * `token_endpoint_auth_method=none`, PKCE). Plain http is allowed only when the
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
  let configuration: oidc.Configuration;
  const dpop = createProviderDpop(() => configuration);
  try {
    configuration = await oidc.discovery(issuerUrl, config.clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), {
      [oidc.customFetch]: dpop.wrapFetch(fetchReportingRotation(fetchReadingDeviceErrorsAnsweredWith200(http.fetch), rotations, logger), () => configuration.serverMetadata().revocation_endpoint),
      execute: loopbackHttp ? [oidc.allowInsecureRequests] : [],
    });
  } catch (error) {
    throw discoveryError(config, error);
  }
  const metadata = configuration.serverMetadata() as unknown as Record<string, unknown>;
  if (loopbackHttp) assertEndpointsStayLocal(config, metadata);
  oidc.enableNonRepudiationChecks(configuration);
  logger?.debug('provider discovered', { issuer: config.issuer, demo: config.usesDemoProvider });

  const flow: FlowContext = { config, configuration, metadata, http, clock, dpop, ...(logger ? { logger } : {}), ...(deps.timers ? { timers: deps.timers } : {}) };

  return {
    issuer: config.issuer,
    metadata,
    redirectUriFor,
    signIn: (options) => signInThroughBrowser(flow, options),

    async signInWithDevice(options: DeviceSignInOptions): Promise<TokenResult> {
      const response = await pollDeviceSignIn(configuration, { config, parameters: audienceParameters(config), clock, ...(logger ? { logger } : {}) }, options);
      return withProfile(flow, toTokenResult(response, clock()));
    },

    async refresh(refreshToken: string, options: RefreshOptions = {}): Promise<TokenResult> {
      const sentAt = clock();
      const { onRotated } = options;
      if (onRotated) rotations.set(refreshToken, (rotated) => onRotated(rotated.expiresAt === undefined ? rotated : { ...rotated, expiresAt: sentAt + rotated.expiresAt * 1000 }));
      try {
        const response = await oidc.refreshTokenGrant(configuration, refreshToken, audienceParameters(config), options.dpop ? { DPoP: dpop.handleFor(options.dpop) } : undefined);
        logger?.debug('refreshed', { refreshToken: fingerprint(refreshToken), rotated: response.refresh_token !== undefined && response.refresh_token !== refreshToken });
        return toTokenResult(response, sentAt);
      } catch (error) {
        throw classifyProviderError(error, { operation: 'refresh' });
      } finally {
        rotations.delete(refreshToken);
      }
    },

    async revoke(refreshToken: string, key?: DpopKey): Promise<void> {
      if (typeof metadata.revocation_endpoint !== 'string') return;
      if (key) dpop.proveRevocation(refreshToken, key);
      try {
        await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
      } catch (error) {
        throw classifyProviderError(error, { operation: 'revocation' });
      } finally {
        dpop.forget(refreshToken);
      }
    },

    endSessionUrl(): string | undefined {
      if (typeof metadata.end_session_endpoint !== 'string') return undefined;
      // No id_token_hint: this URL is a browser's command-line argument (readable by other users
      // through /proc on Linux) and lands in its history. RP-Initiated Logout 1.0 §2 lets client_id
      // identify the client instead, and post_logout_redirect_uri is sent only when one is registered.
      const parameters: Record<string, string> = { client_id: config.clientId };
      if (config.postLogoutRedirectUri) parameters.post_logout_redirect_uri = config.postLogoutRedirectUri;
      return oidc.buildEndSessionUrl(configuration, parameters).href;
    },
  };
}

/** What the flows of one connected provider share. */
interface FlowContext {
  config: AuthConfig;
  configuration: oidc.Configuration;
  metadata: Record<string, unknown>;
  http: HttpClient;
  clock(): number;
  dpop: ProviderDpop;
  logger?: Logger;
  timers?: Timers;
}

/**
 * The interactive sign-in (RFC 8252): a loopback listener on 127.0.0.1, the
 * authorization request with PKCE S256, `state` and `nonce` in the system
 * browser, the code exchange with every check, then the profile from UserInfo.
 */
async function signInThroughBrowser(flow: FlowContext, { opener, timeoutMs, signal, dpop: key }: SignInOptions): Promise<TokenResult> {
  const { config, configuration, metadata, http, logger } = flow;

    throwIfCancelled(signal);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeChallenge = await oidc.calculatePKCECodeChallenge(verifier);
    const server = await startLoopbackServer({
      port: config.redirectPort,
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
        nonce,
        ...(config.prompt !== undefined ? { prompt: config.prompt } : {}),
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
      const signedIn = await withProfile(flow, tokens, key);
      outcome = { ok: true };
      return signedIn;
    } catch (error) {
      outcome = { ok: false, error };
      throw error;
    } finally {
      if (outcome) server.complete(outcome);
      await server.close();
    }
}

/** A completed sign-in (either flow): the ID token's profile with UserInfo's claims over it. */
async function withProfile(flow: FlowContext, tokens: TokenResult, key?: DpopKey): Promise<TokenResult> {
  const { config, configuration, metadata, logger } = flow;
  if (tokens.user) {
    tokens.user = await withUserInfo(tokens.user, tokens.accessToken, {
      config,
      endpoint: typeof metadata.userinfo_endpoint === 'string' ? metadata.userinfo_endpoint : undefined,
      fetchClaims: async (accessToken) => ({ ...(await oidc.fetchUserInfo(configuration, accessToken, oidc.skipSubjectCheck, key ? { DPoP: flow.dpop.handleFor(key) } : undefined)) }),
      logger,
    });
  }
  logger?.info('sign-in completed', { sub: tokens.user?.sub, accessToken: fingerprint(tokens.accessToken) });
  return tokens;
}

function audienceParameters(config: Pick<AuthConfig, 'audience' | 'resource'>): Record<string, string> {
  return {
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.resource !== undefined ? { resource: config.resource } : {}),
  };
}

function toTokenResult(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, sentAt: number): TokenResult {
  const result: TokenResult = { accessToken: response.access_token, tokenType: response.token_type === 'dpop' ? 'dpop' : 'bearer' };
  if (response.refresh_token) result.refreshToken = response.refresh_token;
  if (response.id_token) result.idToken = response.id_token;
  if (typeof response.expires_in === 'number') result.expiresAt = sentAt + response.expires_in * 1000;
  if (response.scope) result.scope = response.scope;
  const claims = response.claims();
  if (claims) result.user = profileFrom(claims);
  return result;
}

async function exchangeCode(flow: FlowContext, callback: ValidatedCallback, checks: { state: string; nonce: string; verifier: string }, key: DpopKey | undefined): Promise<TokenResult> {
  const sentAt = flow.clock();
  const response = await oidc.authorizationCodeGrant(
    flow.configuration,
    callbackUrlOf(callback),
    { pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
    flow.config.resource !== undefined ? { resource: flow.config.resource } : undefined,
    key ? { DPoP: flow.dpop.handleFor(key) } : undefined,
  );
  return toTokenResult(response, sentAt);
}

function assertEndpointsStayLocal(config: AuthConfig, metadata: Record<string, unknown>): void {
  for (const field of METADATA_URL_FIELDS) {
    const value = metadata[field];
    if (typeof value !== 'string' || !URL.canParse(value)) continue;
    const url = new URL(value);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      throw new AuthError(
        'provider_unreachable',
        `The provider at ${config.issuer} advertises ${field} ${value} over plain http on another machine; tokens would cross the network unencrypted. Fix the provider's configuration to use https.`,
      );
    }
  }
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
