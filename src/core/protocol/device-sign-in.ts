import * as oidc from 'openid-client';
import type { DeviceCodePrompt } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { isLoopbackHost } from '../config/values.ts';
import { AuthError } from '../errors.ts';
import { inertText } from '../../shared/inert-text.ts';
import { fingerprint } from '../log.ts';
import type { Logger } from '../../shared/logger.ts';
import { classifyProviderError, describeProviderError } from './answers.ts';
import { throwIfCancelled } from './flow-context.ts';

/** RFC 8628 §3.4: the grant type of the device access token request. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceSignInOptions {
  /** Called once the provider issued the codes: show the address and the user code (RFC 8628 §3.3). */
  onCode(prompt: DeviceCodePrompt): void;
  signal?: AbortSignal;
  /** How long the whole sign-in may take, the request for the codes included (`login --timeout`); the code's own lifetime bounds it too. */
  timeoutMs?: number;
}

export interface DeviceSignInDeps {
  config: Pick<AuthConfig, 'issuer' | 'clientId' | 'scope'>;
  /** `audience` / `resource`, sent with the device authorization request like with the authorization request. */
  parameters: Record<string, string>;
  /** More `resource` values for the device authorization request: every API's, as in the authorization request (RFC 8707 §2.1). */
  resources?: string[];
  clock: () => number;
  logger?: Logger | undefined;
  /** The session's DPoP handle (RFC 9449): each token poll carries a proof from its key, binding the tokens. */
  DPoP?: oidc.DPoPHandle;
  /**
   * Runs the polling against the configuration the answer is checked with: Entra's common/organizations
   * check the ID token against the user's own tenant and AUTH_ALLOWED_TENANTS (entra-tenant.ts), as the
   * browser sign-in does. It may run the polling twice, the second time answered from the first answer.
   */
  inUserTenant?<T>(run: (configuration: oidc.Configuration) => Promise<T>): Promise<T>;
}

/** The provider's device authorization endpoint (RFC 8628 §4), when its metadata names one. */
export function deviceAuthorizationEndpoint(metadata: Record<string, unknown>): string | undefined {
  const endpoint = metadata.device_authorization_endpoint;
  return typeof endpoint === 'string' && endpoint !== '' ? endpoint : undefined;
}

/** The sentence for a provider that does not offer sign-in with a code. */
export function noDeviceEndpointError(issuer: string): AuthError {
  return new AuthError(
    'config_invalid',
    `The provider at ${issuer} does not offer sign-in with a code: its metadata has no device_authorization_endpoint (RFC 8628 §4). Enable the device authorization grant for this client at the provider, or sign in through a browser.`,
  );
}

/**
 * Signs in by the device authorization grant (RFC 8628): asks the provider
 * for a device code and a user code (§3.1), hands them to `onCode` so the user
 * can enter the code on any device (§3.3), then polls the token endpoint
 * (§3.4) with openid-client, which waits `interval` seconds between polls and
 * 5 s more after each `slow_down` (§3.5), until the provider answers with
 * tokens, a refusal (`access_denied` → `sign_in_denied`), the code's expiry
 * (`expired_token`, or `expires_in` passed → `sign_in_timeout`) or `signal`
 * aborts (`sign_in_cancelled`). The response is openid-client's, checked like
 * any token response (ID token signature, issuer, audience).
 */
export async function pollDeviceSignIn(configuration: oidc.Configuration, deps: DeviceSignInDeps, options: DeviceSignInOptions): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const { config, clock, logger, signal } = { ...deps, signal: options.signal };
  const issuer = config.issuer;
  if (!deviceAuthorizationEndpoint(configuration.serverMetadata() as unknown as Record<string, unknown>)) throw noDeviceEndpointError(issuer);
  throwIfCancelled(signal);
  const deadline = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const timedOut = (cause?: unknown) =>
    new AuthError('sign_in_timeout', `The sign-in was not completed within ${Math.round((options.timeoutMs ?? 0) / 1000)} seconds. Sign in again when you are ready.`, cause === undefined ? undefined : { cause });

  let codes: oidc.DeviceAuthorizationResponse;
  try {
    const initiation = new URLSearchParams({ scope: config.scope, ...deps.parameters });
    for (const resource of deps.resources ?? []) initiation.append('resource', resource);
    codes = await untilDeadline(oidc.initiateDeviceAuthorization(configuration, initiation), deadline);
  } catch (error) {
    if (deadline?.aborted) throw timedOut(error);
    throw startRefused(error, config);
  }
  throwIfCancelled(signal);
  if (deadline?.aborted) throw timedOut();
  assertShowable(codes, issuer);
  const expiresAt = clock() + codes.expires_in * 1000;
  const prompt: DeviceCodePrompt = {
    userCode: codes.user_code,
    verificationUri: codes.verification_uri,
    verificationHost: new URL(codes.verification_uri).host,
    expiresAt,
    issuer,
    clientId: config.clientId,
  };
  if (codes.verification_uri_complete) prompt.verificationUriComplete = codes.verification_uri_complete;
  logger?.info('device sign-in started', { device: fingerprint(codes.device_code), expiresIn: codes.expires_in, interval: codes.interval ?? 5 });
  options.onCode(prompt);

  const expiry = AbortSignal.timeout(codes.expires_in * 1000);
  const polling = AbortSignal.any([expiry, ...(signal ? [signal] : []), ...(deadline ? [deadline] : [])]);
  let polled = false;
  const poll = (checkedWith: oidc.Configuration) => {
    // A second run only replays the answer already read (inUserTenant): no wait for another interval.
    const asked = polled ? { ...codes, interval: 0 } : codes;
    polled = true;
    return oidc.pollDeviceAuthorizationGrant(checkedWith, asked, deps.parameters, { signal: polling, ...(deps.DPoP ? { DPoP: deps.DPoP } : {}) });
  };
  try {
    // openid-client looks at the signal only between 5 s steps of its wait: the deadline ends the sign-in at once.
    return await untilDeadline(deps.inUserTenant ? deps.inUserTenant(poll) : poll(configuration), deadline);
  } catch (error) {
    if (signal?.aborted) throw new AuthError('sign_in_cancelled', 'The sign-in was cancelled.', { cause: error });
    if (deadline?.aborted && !expiry.aborted) throw timedOut(error);
    throw pollEnded(error, prompt);
  }
}

/** `work`, or a rejection as soon as `deadline` passes (openid-client's device request takes no signal, and its polling looks at one only every 5 s). */
function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal | undefined): Promise<T> {
  if (!deadline) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(deadline.reason as Error);
    if (deadline.aborted) onAbort();
    deadline.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}

/**
 * The codes are shown to a person — printed on a terminal, drawn as a QR code — and a code can be phished
 * (RFC 8628 §5.4), so what is shown must be what is opened: web addresses (§3.2) on https, or http only on
 * this machine (a provider on loopback); nothing invisible, direction-changing or line-breaking in them (a
 * right-to-left override prints an address reversed); no user name before the host (`site@host` hides the
 * host); the address that carries the code on the same site as the one shown; and a short, printable code.
 * A refusal names the provider's value, made inert.
 */
function assertShowable(codes: oidc.DeviceAuthorizationResponse, issuer: string): void {
  const refuse = (what: string, value: string, problem: string) =>
    new AuthError(
      'provider_error',
      `The provider at ${issuer} answered the request for a sign-in code with ${what} "${inertText(value)}", which Latchkey does not show: ${problem} (RFC 8628 §3.2, §5.4). Sign in through a browser, or ask the provider's administrator.`,
    );
  const shown = codes.verification_uri;
  const problem = addressProblem(shown);
  if (problem) throw refuse('the verification address', shown, problem);
  const complete = codes.verification_uri_complete;
  if (complete !== undefined) {
    const completeProblem = addressProblem(complete) ?? (new URL(complete).origin === new URL(shown).origin ? undefined : `it is on another site than the verification address ${new URL(shown).host}`);
    if (completeProblem) throw refuse('the address that carries the code', complete, completeProblem);
  }
  if (!/^[\p{L}\p{N}\p{P}\p{S} ]{1,64}$/u.test(codes.user_code)) throw refuse('the user code', codes.user_code, 'it is not a short code of printable characters');
}

/** Why a verification address cannot be shown, or undefined when it can. */
function addressProblem(value: string): string | undefined {
  if (/[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value)) return 'it holds spaces, control characters, or invisible or direction-changing characters (such as U+202E), which would show another address than the one opened';
  if (!URL.canParse(value)) return 'it is not a web address';
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `its scheme is ${url.protocol} (https is required)`;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return `it is plain http to ${url.host}, which is not this machine (https is required; http only on loopback)`;
  if (url.username !== '' || url.password !== '') return 'it has a user name before the host (user@host), which hides the site it opens';
  return undefined;
}

/**
 * Why the device authorization request failed, from the provider's own error (RFC 8628 §3.2 with RFC 6749
 * §5.2's codes): an unknown client (`invalid_client`) is the client id to check, a refused scope is
 * AUTH_SCOPE; only `unauthorized_client` / `unsupported_grant_type` mean the grant is not allowed.
 */
function startRefused(error: unknown, config: DeviceSignInDeps['config']): AuthError {
  if (error instanceof oidc.ResponseBodyError) {
    const answer = describeProviderError(error.error, error.error_description);
    const refused = `The provider at ${config.issuer} refused to start a sign-in with a code (${answer}).`;
    const fix =
      error.error === 'invalid_client' || error.error === 'incorrect_client_credentials'
        ? `Check AUTH_CLIENT_ID (${config.clientId}): it must be the client id of the app registered at this provider — and AUTH_CLIENT_SECRET where the provider issued one.`
        : error.error === 'invalid_scope'
          ? 'Check AUTH_SCOPE: the provider refuses one of the scopes asked for.'
          : error.error === 'unauthorized_client' || error.error === 'unsupported_grant_type'
            ? `Allow the device authorization grant (${DEVICE_CODE_GRANT}) for client ${config.clientId} at the provider.`
            : 'The provider\'s own words above say what to fix.';
    return new AuthError('config_invalid', `${refused} ${fix}`, { cause: error });
  }
  return classifyProviderError(error, { operation: 'sign-in' });
}

/** The end of polling in words a person understands: refused, expired, or what the provider or network said. */
function pollEnded(error: unknown, prompt: DeviceCodePrompt): AuthError {
  const where = new URL(prompt.verificationUri).host;
  const code = error instanceof oidc.ResponseBodyError ? error.error : undefined;
  if (code === 'access_denied') {
    return new AuthError('sign_in_denied', `The sign-in with code ${prompt.userCode} was declined at ${where}. If that was not you, nothing more is needed; otherwise sign in again.`, { cause: error });
  }
  if (code === 'expired_token' || isTimeout(error)) {
    return new AuthError('sign_in_timeout', `The code ${prompt.userCode} expired before it was entered and approved at ${where}. Sign in again for a new code.`, { cause: error });
  }
  return classifyProviderError(error, { operation: 'sign-in' });
}

function isTimeout(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    if (current.name === 'TimeoutError' || (current as { code?: unknown }).code === 'OAUTH_TIMEOUT') return true;
  }
  return false;
}

