import * as oidc from 'openid-client';
import type { UserProfile } from '../shared/ipc.ts';
import { isLoopbackHost, type AuthConfig } from './config.ts';
import { AuthError } from './errors.ts';
import { assertDemoIsOurs } from './demo-proof.ts';
import { classifyProviderError, discoveryError, messageOf } from './provider-errors.ts';
import { assertRedirectAccepted } from './redirect-probe.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { fingerprint, type Logger } from './log.ts';
import { callbackUrlOf, redirectUriFor, startLoopbackServer, type ValidatedCallback } from './loopback-server.ts';
import type { SignInOutcome } from './callback-pages.ts';
import type { Timers } from './timers.ts';
import { profileFrom, withUserInfo } from './userinfo.ts';
import { refusalAsError } from './providers/token-response.ts';

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

/** What a refresh response carries that must outlive the response checks: the rotated refresh token. */
export interface RotatedToken {
  refreshToken: string;
  scope?: string;
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
  refresh(refreshToken: string, options?: RefreshOptions): Promise<TokenResult>;
  revoke(refreshToken: string): Promise<void>;
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
  const http = deps.http ?? createHttpClient({ caFile: config.caFile });
  const issuerUrl = new URL(config.issuer);
  const loopbackHttp = issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname);

  const rotations = new Map<string, (rotated: RotatedToken) => void>();
  if (config.usesDemoProvider && config.demoDataDir) await assertDemoIsOurs(config.issuer, config.demoDataDir, http.fetch);
  let configuration: oidc.Configuration;
  try {
    configuration = await oidc.discovery(issuerUrl, config.clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), {
      [oidc.customFetch]: fetchReportingRotation(http.fetch, rotations, logger),
      execute: loopbackHttp ? [oidc.allowInsecureRequests] : [],
    });
  } catch (error) {
    throw discoveryError(config, error);
  }
  const metadata = configuration.serverMetadata() as unknown as Record<string, unknown>;
  if (loopbackHttp) assertEndpointsStayLocal(config, metadata);
  oidc.enableNonRepudiationChecks(configuration);
  logger?.debug('provider discovered', { issuer: config.issuer, demo: config.usesDemoProvider });

  const audienceParameters = (): Record<string, string> => ({
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
    ...(config.resource !== undefined ? { resource: config.resource } : {}),
  });

  const toTokenResult = (response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, sentAt: number): TokenResult => {
    const result: TokenResult = { accessToken: response.access_token };
    if (response.refresh_token) result.refreshToken = response.refresh_token;
    if (response.id_token) result.idToken = response.id_token;
    if (typeof response.expires_in === 'number') result.expiresAt = sentAt + response.expires_in * 1000;
    if (response.scope) result.scope = response.scope;
    const claims = response.claims();
    if (claims) result.user = profileFrom(claims);
    return result;
  };

  const exchangeCode = async (callback: ValidatedCallback, checks: { state: string; nonce: string; verifier: string }): Promise<TokenResult> => {
    const sentAt = clock();
    const response = await oidc.authorizationCodeGrant(
      configuration,
      callbackUrlOf(callback),
      { pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
      config.resource !== undefined ? { resource: config.resource } : undefined,
    );
    return toTokenResult(response, sentAt);
  };

  return {
    issuer: config.issuer,
    metadata,
    redirectUriFor,

    async signIn({ opener, timeoutMs, signal }: SignInOptions): Promise<TokenResult> {
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
        ...(deps.timers ? { timers: deps.timers } : {}),
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
          ...audienceParameters(),
        });
        logger?.info('sign-in started', { port: server.port, state: fingerprint(state) });
        // The opener may never settle (a launcher that hangs); the callback, timeout and cancel still decide.
        const callbackArrival = server.waitForCallback();
        await Promise.race([openBrowser(opener, authorizationUrl.href), callbackArrival]);
        const callback = await callbackArrival;
        const tokens = await untilCancelled(
          exchangeCode(callback, { state, nonce, verifier }).catch((error: unknown) => {
            throw classifyProviderError(error, { operation: 'sign-in' });
          }),
          signal,
        );
        if (tokens.user) {
          tokens.user = await withUserInfo(tokens.user, tokens.accessToken, {
            config,
            endpoint: typeof metadata.userinfo_endpoint === 'string' ? metadata.userinfo_endpoint : undefined,
            fetchClaims: async (accessToken) => ({ ...(await oidc.fetchUserInfo(configuration, accessToken, oidc.skipSubjectCheck)) }),
            logger,
          });
        }
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
    },

    async refresh(refreshToken: string, options: RefreshOptions = {}): Promise<TokenResult> {
      const sentAt = clock();
      if (options.onRotated) rotations.set(refreshToken, options.onRotated);
      try {
        const response = await oidc.refreshTokenGrant(configuration, refreshToken, audienceParameters());
        logger?.debug('refreshed', { refreshToken: fingerprint(refreshToken), rotated: response.refresh_token !== undefined && response.refresh_token !== refreshToken });
        return toTokenResult(response, sentAt);
      } catch (error) {
        throw classifyProviderError(error, { operation: 'refresh' });
      } finally {
        rotations.delete(refreshToken);
      }
    },

    async revoke(refreshToken: string): Promise<void> {
      if (typeof metadata.revocation_endpoint !== 'string') return;
      try {
        await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
      } catch (error) {
        throw classifyProviderError(error, { operation: 'revocation' });
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

/**
 * openid-client's `customFetch` hook, used to see a refresh response before
 * openid-client checks it: a successful refresh_token grant response that
 * carries a new refresh token is reported at once to whoever waits for that
 * redeemed token (RFC 9700 §4.14.2: the sent token is spent now). The response
 * itself goes on to openid-client unchanged, for every check it makes — except
 * a 2xx token answer that is a refusal (GitHub's), which goes on as the 400 it means.
 */
function fetchReportingRotation(fetch: HttpClient['fetch'], rotations: Map<string, (rotated: RotatedToken) => void>, logger: Logger | undefined): oidc.CustomFetch {
  return async (url, options) => {
    const body = options.body;
    const answer = await fetch(url, options as RequestInit);
    const response = body instanceof URLSearchParams && body.has('grant_type') ? await refusalAsError(answer) : answer;
    if (response.status !== 200 || !(body instanceof URLSearchParams) || body.get('grant_type') !== 'refresh_token') return response;
    const sent = body.get('refresh_token');
    const report = sent === null ? undefined : rotations.get(sent);
    if (!report) return response;
    try {
      const parsed = (await response.clone().json()) as { refresh_token?: unknown; scope?: unknown };
      if (typeof parsed.refresh_token === 'string' && parsed.refresh_token !== '' && parsed.refresh_token !== sent) {
        report({ refreshToken: parsed.refresh_token, ...(typeof parsed.scope === 'string' ? { scope: parsed.scope } : {}) });
      }
    } catch (error) {
      // Not JSON: openid-client reports it as such; nothing was rotated that we could keep.
      logger?.debug('refresh response not readable before its checks', { error: String(error) });
    }
    return response;
  };
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
