import type * as oidc from 'openid-client';
import type { HttpClient } from './http.ts';
import type { Logger } from './log.ts';
import type { RotatedToken } from './provider-client.ts';
import { refusalAsError } from './providers/token-response.ts';

/**
 * openid-client's `customFetch` hook, used to see a refresh response before
 * openid-client checks it: a successful refresh_token grant response that
 * carries a new refresh token is reported at once to whoever waits for that
 * redeemed token (RFC 9700 §4.14.2: the sent token is spent now). The response
 * itself goes on to openid-client unchanged, for every check it makes — except
 * a 2xx token answer that is a refusal (GitHub's), which goes on as the 400 it means.
 */
export function fetchReportingRotation(fetch: HttpClient['fetch'], rotations: Map<string, (rotated: RotatedToken) => void>, logger: Logger | undefined): oidc.CustomFetch {
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

