import * as oidc from 'openid-client';
import type { UserProfile } from '../shared/ipc.ts';
import { isLoopbackHost, type AuthConfig } from './config.ts';
import { clockSkewError } from './clock-skew.ts';
import { AuthError, loginDenied } from './errors.ts';
import { assertDemoIsOurs } from './demo-proof.ts';
import { classifyProviderAnswer } from './provider-answers.ts';
import { assertRedirectAccepted } from './redirect-probe.ts';
import { createHttpClient, type HttpClient } from './http.ts';
import { fingerprint, type Logger } from './log.ts';
import { callbackUrlOf, redirectUriFor, startLoopbackServer, type ValidatedCallback } from './loopback-server.ts';
import type { SignInOutcome } from './callback-pages.ts';
import type { Timers } from './timers.ts';
import { profileFrom, withUserInfo } from './userinfo.ts';

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
 * itself goes on to openid-client unchanged, for every check it makes.
 */
function fetchReportingRotation(fetch: HttpClient['fetch'], rotations: Map<string, (rotated: RotatedToken) => void>, logger: Logger | undefined): oidc.CustomFetch {
  return async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    const body = options.body;
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

/**
 * Maps what openid-client and the transport throw onto the auth core's codes,
 * so callers can tell "sign in again" from "try again later" (RFC 6749 §5.2):
 * the provider's error answers are judged by `classifyProviderAnswer` (a refresh
 * refused with 400/401 → `session_ended`, 429 → back off); no answer, a timeout,
 * a 5xx or a 2xx that is not a token response → `provider_unreachable` (the
 * refresh token is still good); an ID token that fails validation →
 * `id_token_invalid`; anything else → `provider_error`.
 */
export function classifyProviderError(error: unknown, context: { operation: 'sign-in' | 'refresh' | 'revocation' }): AuthError {
  const explained = transportError(error) ?? clockSkewError(error);
  if (explained) return explained;
  const { operation } = context;

  const answered = classifyProviderAnswer(error, operation);
  if (answered) return answered;

  const unreachable = unreachableReason(error);
  if (unreachable) {
    return new AuthError('provider_unreachable', `The provider could not be reached for the ${operation} (${unreachable}). Check your network connection and proxy settings.${operation === 'refresh' ? ' Your session is kept; Latchkey tries again later.' : ''}`, { cause: error });
  }

  const detail = innermostMessage(error);
  if (isIdTokenProblem(error, detail)) {
    return new AuthError('id_token_invalid', `The provider's ID token failed validation (${detail}). Check this computer's clock and the client id, then sign in again.`, { cause: error });
  }
  if (/"iss" \(issuer\) (response parameter|missing)|response parameter "iss"/.test(detail)) {
    return new AuthError('provider_error', `The authorization response did not come from the configured issuer (${detail}; RFC 9207), so it was refused. Sign in again; if it persists, check AUTH_ISSUER.`, { cause: error });
  }
  if (error instanceof oidc.AuthorizationResponseError) {
    return loginDenied(error.error, error.error_description, { cause: error });
  }
  return new AuthError('provider_error', `The ${operation} failed: ${detail}. Run \`latchkey doctor\` to check the configuration against the provider.`, { cause: error });
}

const UNREACHABLE_CODES = new Set(['OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_PARSE_ERROR', 'OAUTH_TIMEOUT', 'OAUTH_ABORT']);
const ID_TOKEN_CODES = new Set(['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_KEY_SELECTION_FAILED']);
const NETWORK_ERROR_CODES = /^(UND_ERR_|ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ECONNRESET)/;

/** A short reason when the error means "no usable answer came back", else undefined. */
function unreachableReason(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = codeOf(current);
    const name = (current as { name?: unknown }).name;
    if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      const response = (current as { cause?: unknown }).cause;
      const status = response instanceof Object && 'status' in response ? ` (HTTP ${String(response.status)})` : '';
      return `${code === 'OAUTH_RESPONSE_IS_NOT_JSON' ? 'the answer was not JSON' : 'unexpected HTTP status'}${status}`;
    }
    if (code && (UNREACHABLE_CODES.has(code) || NETWORK_ERROR_CODES.test(code))) return code === 'OAUTH_TIMEOUT' ? 'timed out' : code;
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    if (current instanceof TypeError && current.message === 'fetch failed') {
      const cause = (current as { cause?: unknown }).cause;
      return codeOf(cause) ?? messageOf(cause ?? current);
    }
  }
  return undefined;
}

/** ID token checks (signature, iss, aud, exp, iat, nonce) surface as these codes, or as INVALID_RESPONSE about a JWT. */
function isIdTokenProblem(error: unknown, detail: string): boolean {
  const code = codeOf(error);
  if (code && ID_TOKEN_CODES.has(code)) return true;
  return code === 'OAUTH_INVALID_RESPONSE' && /\bJWT\b|ID Token|id_token/.test(detail);
}

/** openid-client wraps oauth4webapi's precise error in a generic one; the precise message is the useful one. */
function innermostMessage(error: unknown): string {
  let message = messageOf(error);
  for (let current = (error as { cause?: unknown })?.cause, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    message = current.message;
  }
  return message;
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Object && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The transport's own AuthError (a proxy's 407, a refused certificate), which openid-client wraps as the cause of its error. */
function transportError(error: unknown): AuthError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    if (current instanceof AuthError) return current;
  }
  return undefined;
}

function discoveryError(config: AuthConfig, error: unknown): AuthError {
  const explained = transportError(error);
  if (explained) return explained;
  const where = config.usesDemoProvider ? `the demo provider at ${config.issuer}` : `the provider at ${config.issuer}`;
  const unreachable = unreachableReason(error);
  const reason = unreachable ?? messageOf(error);
  const fix = config.usesDemoProvider
    ? 'Start it with `npm run idp`, or configure your own provider (AUTH_ISSUER or AUTH0_DOMAIN and AUTH_CLIENT_ID).'
    : unreachable
      ? 'Check your network connection and proxy settings (HTTPS_PROXY, NO_PROXY), and that the issuer URL is right.'
      : 'Check that AUTH_ISSUER (or AUTH0_DOMAIN) is exactly the issuer your provider publishes in its /.well-known/openid-configuration.';
  return new AuthError('provider_unreachable', `Could not load the sign-in configuration of ${where} (${reason}). ${fix}`, { cause: error });
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
