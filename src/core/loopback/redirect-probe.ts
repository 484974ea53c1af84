import { createHash, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError } from '../errors.ts';
import { inertText } from '../../shared/inert-text.ts';
import type { HttpClient } from '../net/http.ts';
import { redirectUriFor } from './listener.ts';
import { PRESETS } from '../presets/presets.ts';
import { type PresetName } from '../presets/preset.ts';

/** The fixed port suggested when a provider matches redirect URIs exactly (any free port works). */
export const SUGGESTED_REDIRECT_PORT = 53682;

/**
 * What the provider's refusal names as its cause: the redirect URI, the client (an unknown or disabled
 * client id), something else it states (a scope, the response type), or nothing a reader can tell.
 */
export type RefusalCause = 'redirect' | 'client' | 'other' | 'unstated';

export type RedirectProbe =
  | { verdict: 'accepted'; status: number }
  | { verdict: 'refused'; status: number; detail?: string; error?: string; cause?: RefusalCause }
  | { verdict: 'inconclusive'; reason: string };

/** The most of an error page read for its error code. */
const ERROR_PAGE_LIMIT = 64 * 1024;

// RFC 6749 §4.1.2.1: an unknown client or a bad redirect URI is shown to the user, never redirected;
// every other error goes back to the redirect URI. The codes and phrases providers use for each:
// oidc-provider's invalid_client / invalid_redirect_uri, GitHub's redirect_uri_mismatch, Keycloak's
// "Client not found." / "Invalid parameter: redirect_uri", Auth0's "Callback URL mismatch", Entra's
// AADSTS700016 (application not found) / AADSTS50011 (redirect URI mismatch).
const CLIENT_CODES = ['invalid_client', 'unauthorized_client', 'incorrect_client_credentials'];
const REDIRECT_CODES = ['invalid_redirect_uri', 'redirect_uri_mismatch'];
const OTHER_CODES = ['invalid_request', 'invalid_scope', 'unsupported_response_type', 'access_denied', 'invalid_target', 'server_error', 'temporarily_unavailable', 'consent_required', 'login_required', 'interaction_required'];
const CODE_IN_TEXT = new RegExp(`\\b(${[...CLIENT_CODES, ...REDIRECT_CODES, ...OTHER_CODES].join('|')})\\b`);
const CLIENT_WORDS = /\bAADSTS700016\b|\bclient not found\b|\bunknown client\b|\binvalid client\b|\bclient (?:id )?(?:is )?(?:invalid|unknown|not found|disabled)\b/i;
const REDIRECT_WORDS = /\bAADSTS50011\b|redirect[_ ]?ur[il]|callback url/i;

/** The cause a refusal names: its error code first, then its description (Auth0's invalid_request "Callback URL mismatch"; an HTML page's whole text). */
export function refusalCause(error: string | undefined, description: string): RefusalCause {
  if (error && CLIENT_CODES.includes(error)) return 'client';
  if (error && REDIRECT_CODES.includes(error)) return 'redirect';
  if (REDIRECT_WORDS.test(description)) return 'redirect';
  if (CLIENT_WORDS.test(description)) return 'client';
  return error ? 'other' : 'unstated';
}

/** The error code and description of an error page: a JSON error answer (RFC 6749 §5.2), else the first known code in its text. */
async function readErrorPage(response: Response): Promise<{ error?: string; description?: string; text: string }> {
  let text = '';
  try {
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    while (reader && text.length < ERROR_PAGE_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader?.cancel();
  } catch {
    // An unreadable page names no cause.
  }
  text = text.slice(0, ERROR_PAGE_LIMIT);
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') return { error: body.error, ...(typeof body.error_description === 'string' ? { description: body.error_description } : {}), text };
  } catch {
    // Not JSON: an HTML or text page.
  }
  const found = CODE_IN_TEXT.exec(text)?.[1];
  return { ...(found ? { error: found } : {}), text };
}

/** A provider's text made inert (`inertText`: one line, its control and format characters written out), at most `max` long: it ends up in a terminal. */
function printable(text: string, max = 200): string {
  const flat = inertText(text).replace(/ +/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Asks the provider's authorization endpoint about `redirectUri` the way a
 * sign-in would (same client, scope, prompt, PKCE S256), without following
 * redirects and without a browser. A provider that rejects the redirect URI
 * answers with an error page (RFC 6749 §4.1.2.1: it must not redirect to an
 * unregistered URI) — Glewlwyd 403, oidc-provider 400 — or sends the browser
 * to its own error page; one that accepts it redirects to its sign-in page or
 * back to the redirect URI. A 5xx or no answer decides nothing.
 */
export async function probeRedirectUri(
  config: Pick<AuthConfig, 'clientId' | 'scope' | 'prompt' | 'audience' | 'resource'> & { provider?: PresetName },
  authorizationEndpoint: string,
  redirectUri: string,
  http: Pick<HttpClient, 'fetch'>,
): Promise<RedirectProbe> {
  const url = new URL(authorizationEndpoint);
  const verifier = randomBytes(32).toString('base64url');
  const parameters: Record<string, string | undefined> = {
    client_id: config.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: config.scope,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    prompt: config.prompt,
    audience: config.audience,
    resource: config.resource,
    // The preset's own parameters (Google's access_type=offline), as the sign-in sends them.
    ...PRESETS[config.provider ?? 'generic'].authorizationParameters,
  };
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(name, value);

  let response: Response;
  try {
    response = await http.fetch(url, { redirect: 'manual' });
  } catch (error) {
    return { verdict: 'inconclusive', reason: error instanceof Error ? error.message : String(error) };
  }
  const { status } = response;
  if (status >= 400 && status < 500) {
    // The page says why: an unknown client and a refused redirect URI are different fixes.
    const page = await readErrorPage(response);
    const words = [page.error, page.description].filter((part): part is string => Boolean(part)).map((part) => printable(part));
    return { verdict: 'refused', status, ...(words.length > 0 ? { detail: words.join(' — ') } : {}), ...(page.error ? { error: page.error } : {}), cause: refusalCause(page.error, page.description ?? page.text) };
  }
  await response.body?.cancel();
  if (status >= 500) return { verdict: 'inconclusive', reason: `HTTP ${status}` };
  const location = response.headers.get('location');
  if (status >= 300 && location) {
    const target = new URL(location, url);
    if (target.href.startsWith(redirectUri)) return { verdict: 'accepted', status };
    const error = target.searchParams.get('error');
    if (error || /\/error\/?$/.test(target.pathname)) {
      const description = target.searchParams.get('error_description');
      const detail = [error, description].filter((part): part is string => Boolean(part)).map((part) => printable(part)).join(' — ') || target.pathname;
      return { verdict: 'refused', status, detail, ...(error ? { error } : {}), cause: refusalCause(error ?? undefined, description ?? '') };
    }
  }
  return { verdict: 'accepted', status };
}

/**
 * The sentence for a refused redirect URI: with a port per sign-in, register a
 * fixed one (RFC 8252 §7.3 lets providers ignore the port; many don't); with a
 * fixed port, register exactly that URI.
 */
export function redirectRefusedMessage(redirectPort: number, redirectUri: string, probe: Extract<RedirectProbe, { verdict: 'refused' }>, clientId?: string): string {
  const answer = `HTTP ${probe.status}${probe.detail ? `: ${probe.detail}` : ''}`;
  // The provider's own answer first: an unknown client or another stated error is not a port problem.
  if (probe.cause === 'client') {
    return (
      `The provider does not accept the client id${clientId ? ` ${clientId}` : ''} (${answer}). ` +
      'Check AUTH_CLIENT_ID: it must be the client (application) id of the app registered at this provider, for this issuer — and AUTH_CLIENT_SECRET where the provider issued one.'
    );
  }
  if (probe.cause === 'other') return `The provider refused the sign-in request (${answer}). ${otherErrorFix(probe.error)}`;
  if (redirectPort === 0) {
    return (
      `The provider refused the redirect URI ${redirectUri} (${answer}): it matches redirect URIs exactly, port included, so a new port per sign-in cannot work. ` +
      `Register ${redirectUriFor(SUGGESTED_REDIRECT_PORT, new URL(redirectUri).hostname === 'localhost' ? 'localhost' : '127.0.0.1')} at the provider and set AUTH_REDIRECT_PORT=${SUGGESTED_REDIRECT_PORT}.`
    );
  }
  return `The provider refused the redirect URI ${redirectUri} (${answer}). Register exactly ${redirectUri} for this client at the provider, and check AUTH_CLIENT_ID.`;
}

/** What to change for an error the authorization endpoint states that is neither the client nor the redirect URI. */
function otherErrorFix(error: string | undefined): string {
  switch (error) {
    case 'invalid_scope':
      return 'Check AUTH_SCOPE: the provider refuses one of the scopes asked for.';
    case 'invalid_target':
      return 'Check AUTH_AUDIENCE / AUTH_RESOURCE: the provider does not know the API asked for.';
    case 'unsupported_response_type':
      return 'Allow the authorization code flow for this client at the provider.';
    case 'server_error':
    case 'temporarily_unavailable':
      return 'The provider has a problem of its own; try again later.';
    default:
      return 'The provider\'s own words above say what to fix in its settings for this client, or in AUTH_SCOPE, AUTH_PROMPT, AUTH_AUDIENCE or AUTH_RESOURCE.';
  }
}

/** The provider refused the loopback redirect URI (`config_invalid`): a sign-in through the browser cannot work with this registration. */
export class RedirectRefusedError extends AuthError {
  constructor(message: string) {
    super('config_invalid', message);
  }
}

/** Before the browser opens: fails fast with `config_invalid` when the provider refuses the redirect URI, instead of waiting out the sign-in timeout. */
export async function assertRedirectAccepted(config: Pick<AuthConfig, 'clientId' | 'scope' | 'prompt' | 'audience' | 'resource' | 'redirectPort' | 'provider'>, authorizationEndpoint: string, redirectUri: string, http: Pick<HttpClient, 'fetch'>): Promise<void> {
  const probe = await probeRedirectUri(config, authorizationEndpoint, redirectUri, http);
  if (probe.verdict !== 'refused') return;
  const message = redirectRefusedMessage(config.redirectPort, redirectUri, probe, config.clientId);
  // Only a refusal of the redirect (or one that names no cause) is one a sign-in with a code gets around.
  if (probe.cause === 'client' || probe.cause === 'other') throw new AuthError('config_invalid', message);
  throw new RedirectRefusedError(message);
}
