import { createHash, randomBytes } from 'node:crypto';
import type { AuthConfig } from '../config/auth-config.ts';
import { AuthError } from '../errors.ts';
import type { HttpClient } from '../net/http.ts';
import { redirectUriFor } from './listener.ts';
import { PRESETS } from '../presets/presets.ts';
import { type PresetName } from '../presets/preset.ts';

/** The fixed port suggested when a provider matches redirect URIs exactly (any free port works). */
export const SUGGESTED_REDIRECT_PORT = 53682;

export type RedirectProbe =
  | { verdict: 'accepted'; status: number }
  | { verdict: 'refused'; status: number; detail?: string }
  | { verdict: 'inconclusive'; reason: string };

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
    await response.body?.cancel();
  } catch (error) {
    return { verdict: 'inconclusive', reason: error instanceof Error ? error.message : String(error) };
  }
  const { status } = response;
  if (status >= 500) return { verdict: 'inconclusive', reason: `HTTP ${status}` };
  if (status >= 400) return { verdict: 'refused', status };
  const location = response.headers.get('location');
  if (status >= 300 && location) {
    const target = new URL(location, url);
    if (target.href.startsWith(redirectUri)) return { verdict: 'accepted', status };
    const error = target.searchParams.get('error');
    if (error || /\/error\/?$/.test(target.pathname)) {
      const description = target.searchParams.get('error_description');
      return { verdict: 'refused', status, detail: [error, description].filter(Boolean).join(' — ') || target.pathname };
    }
  }
  return { verdict: 'accepted', status };
}

/**
 * The sentence for a refused redirect URI: with a port per sign-in, register a
 * fixed one (RFC 8252 §7.3 lets providers ignore the port; many don't); with a
 * fixed port, register exactly that URI.
 */
export function redirectRefusedMessage(redirectPort: number, redirectUri: string, probe: Extract<RedirectProbe, { verdict: 'refused' }>): string {
  const answer = `HTTP ${probe.status}${probe.detail ? `: ${probe.detail}` : ''}`;
  if (redirectPort === 0) {
    return (
      `The provider refused the redirect URI ${redirectUri} (${answer}): it matches redirect URIs exactly, port included, so a new port per sign-in cannot work. ` +
      `Register ${redirectUriFor(SUGGESTED_REDIRECT_PORT, new URL(redirectUri).hostname === 'localhost' ? 'localhost' : '127.0.0.1')} at the provider and set AUTH_REDIRECT_PORT=${SUGGESTED_REDIRECT_PORT}.`
    );
  }
  return `The provider refused the redirect URI ${redirectUri} (${answer}). Register exactly ${redirectUri} for this client at the provider, and check AUTH_CLIENT_ID.`;
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
  if (probe.verdict === 'refused') throw new RedirectRefusedError(redirectRefusedMessage(config.redirectPort, redirectUri, probe));
}
