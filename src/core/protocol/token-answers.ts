import type * as oidc from 'openid-client';
import type { HttpClient } from '../net/http.ts';
import type { Logger } from '../../shared/logger.ts';

/**
 * What a refresh response carries that must outlive the response checks: the rotated refresh token — and,
 * so one keychain write can hold both, the new access token with the `sub` its ID token names, as sent
 * (not yet checked: the checks run after, on the unchanged response).
 */
export interface RotatedToken {
  refreshToken: string;
  scope?: string;
  accessToken?: string;
  /** Epoch ms, as `TokenResult.expiresAt`. */
  expiresAt?: number;
  /** The unchecked ID token's `sub`, when the response has an ID token. */
  idTokenSub?: string;
  /** `dpop` when the access token is bound (RFC 9449 §5), as sent. */
  tokenType?: 'dpop' | 'bearer';
}

/**
 * openid-client's `customFetch` hook, used to see a refresh response before
 * openid-client checks it: a successful refresh_token grant response that
 * carries a new refresh token is reported at once to whoever waits for that
 * redeemed token (RFC 9700 §4.14.2: the sent token is spent now). The response
 * itself goes on to openid-client unchanged, for every check it makes.
 */
export function fetchReportingRotation(fetch: HttpClient['fetch'], rotations: Map<string, (rotated: RotatedToken) => void>, logger: Logger | undefined): oidc.CustomFetch {
  return async (url, options) => {
    const response = await fetch(url, options as RequestInit);
    const body = options.body;
    if (response.status !== 200 || !(body instanceof URLSearchParams) || body.get('grant_type') !== 'refresh_token') return response;
    const sent = body.get('refresh_token');
    const report = sent === null ? undefined : rotations.get(sent);
    if (!report) return response;
    // Read once and handed on as a new response: cheaper than `clone()`, which tees the body stream.
    const text = await response.text();
    const handedOn = new (response.constructor as typeof Response)(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    try {
      const parsed = JSON.parse(text) as { refresh_token?: unknown; scope?: unknown; access_token?: unknown; expires_in?: unknown; id_token?: unknown; token_type?: unknown };
      if (typeof parsed.refresh_token === 'string' && parsed.refresh_token !== '' && parsed.refresh_token !== sent) {
        const idTokenSub = typeof parsed.id_token === 'string' ? unverifiedSub(parsed.id_token) : undefined;
        // `expiresAt` carries `expires_in` (seconds) here; `refresh` turns it into epoch ms from when it sent the request.
        report({
          refreshToken: parsed.refresh_token,
          ...(typeof parsed.scope === 'string' ? { scope: parsed.scope } : {}),
          ...(typeof parsed.access_token === 'string' ? { accessToken: parsed.access_token } : {}),
          ...(typeof parsed.expires_in === 'number' ? { expiresAt: parsed.expires_in } : {}),
          ...(typeof parsed.id_token === 'string' ? { idTokenSub: idTokenSub ?? '' } : {}),
          ...(typeof parsed.token_type === 'string' ? { tokenType: parsed.token_type.toLowerCase() === 'dpop' ? ('dpop' as const) : ('bearer' as const) } : {}),
        });
      }
    } catch (error) {
      // Not JSON: openid-client reports it as such; nothing was rotated that we could keep.
      logger?.debug('refresh response not readable before its checks', { error: String(error) });
    }
    return handedOn;
  };
}

/** The `sub` a JWT's payload names, unchecked; undefined when it cannot be read. */
function unverifiedSub(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token endpoint's 2xx answer, read once before openid-client checks it:
 * its JSON body (undefined when it is not JSON), and the response to hand on.
 *
 * GitHub answers token-endpoint errors (`bad_refresh_token`,
 * `bad_verification_code`, `incorrect_client_credentials`) with HTTP 200 and
 * an error body (docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors).
 * RFC 6749 §5.2 says an error is a 400; a 2xx whose body carries `error` and
 * no `access_token` is the same refusal, so it is handed on as a 400 with the
 * same body, and judged by the one rule for every provider. Any other answer
 * is handed on unchanged.
 */
export async function readTokenAnswer(response: Response): Promise<{ response: Response; body?: Record<string, unknown> }> {
  if (response.status < 200 || response.status > 299) return { response };
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return { response };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { response };
  const parsed = body as Record<string, unknown>;
  if (typeof parsed.error !== 'string' || parsed.error === '' || parsed.access_token !== undefined) return { response, body: parsed };
  const headers = new Headers(response.headers);
  headers.set('x-latchkey-original-status', String(response.status));
  await response.body?.cancel();
  return { response: new Response(JSON.stringify(parsed), { status: 400, statusText: 'Bad Request', headers }), body: parsed };
}

/** `fetch` with every token-endpoint answer (a request with `grant_type`) passed through `readTokenAnswer`. */
export function refusalsAsErrors(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const answer = await fetch(input, init);
    const body = init?.body;
    return body instanceof URLSearchParams && body.has('grant_type') ? (await readTokenAnswer(answer)).response : answer;
  }) as typeof globalThis.fetch;
}
