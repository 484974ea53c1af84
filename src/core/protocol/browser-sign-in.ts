// Sign-in through the system browser (RFC 8252): the authorization request with PKCE, the loopback
// redirect, the code exchange.
import * as oidc from 'openid-client';
import { AuthError } from '../errors.ts';
import { classifyProviderError, messageOf } from './answers.ts';
import { fingerprint } from '../log.ts';
import { callbackUrlOf, startLoopbackServer, type ValidatedCallback } from '../loopback/listener.ts';
import type { SignInOutcome } from '../loopback/callback-pages.ts';
import { assertRedirectAccepted } from '../loopback/redirect-probe.ts';
import type { DpopKey } from '../dpop/key.ts';
import { audienceParameters, resourcesToAuthorize, throwIfCancelled, toTokenResult, untilCancelled, type FlowContext, type Opener, type TokenResult } from './flow-context.ts';
import { profileAfterSignIn } from './profile.ts';

export async function openBrowser(opener: Opener, url: string): Promise<void> {
  try {
    await opener(url);
  } catch (error) {
    throw new AuthError('browser_unavailable', `The browser could not be opened (${messageOf(error)}). Set $BROWSER to your browser's command, or open the sign-in page yourself.`, { cause: error });
  }
}

/**
 * The authorization code flow through the system browser and a loopback
 * redirect (RFC 8252 §7.3) with PKCE (RFC 7636) and, with a DPoP key,
 * `dpop_jkt` (RFC 9449 §10).
 */
export async function signInThroughBrowser(flow: FlowContext, { opener, timeoutMs, signal, dpop: key, parameters: userParameters }: BrowserSignInOptions): Promise<TokenResult> {
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
    const parameters = new URLSearchParams({
      redirect_uri: server.redirectUri,
      scope: config.scope,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      ...(provider.openid ? { nonce } : {}),
      ...(config.prompt !== undefined ? { prompt: config.prompt } : {}),
      ...preset.authorizationParameters,
      ...userParameters,
      ...(key ? { dpop_jkt: key.jkt } : {}),
      ...audienceParameters(config, preset),
    });
    for (const resource of resourcesToAuthorize(config, preset)) parameters.append('resource', resource);
    const authorizationUrl = oidc.buildAuthorizationUrl(configuration, parameters);
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
  const proof = key ? { DPoP: await flow.dpop.handleFor(key) } : undefined;
  // RFC 8707 §2.2: the code is redeemed for the first API's resource (the one the sign-in's access token is for).
  const { resource } = audienceParameters(config, provider.preset);
  const response = await flow.inUserTenant(
    (tenantConfiguration) =>
      oidc.authorizationCodeGrant(tenantConfiguration, callbackUrlOf(callback), { pkceCodeVerifier: checks.verifier, expectedState: checks.state, ...expected }, resource !== undefined ? { resource } : undefined, proof),
    'sign-in',
  );
  return toTokenResult(response, sentAt, provider.openid);
}

export interface BrowserSignInOptions {
  opener: Opener;
  /** How long the user has to finish in the browser (default 5 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bind the tokens to this key (RFC 9449 §10: `dpop_jkt` in the request, a proof with the code exchange). */
  dpop?: DpopKey;
  /** Which user to offer: the account chooser's `prompt`, or a `login_hint` for the account being renewed (see accounts/account-names.ts). */
  parameters?: Record<string, string>;
}
