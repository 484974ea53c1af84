import type * as oidc from 'openid-client';
import type { HttpClient } from './http.ts';
import type { RotatedToken } from './provider-client.ts';
import { readTokenAnswer } from './providers/token-response.ts';

/**
 * openid-client's `customFetch` hook, used to see a token response before
 * openid-client checks it, reading its body once: a successful refresh_token
 * grant response that carries a new refresh token is reported at once to
 * whoever waits for that redeemed token (RFC 9700 §4.14.2: the sent token is
 * spent now). The response itself goes on to openid-client unchanged, for
 * every check it makes — except a 2xx token answer that is a refusal
 * (GitHub's), which goes on as the 400 it means (`readTokenAnswer`).
 */
export function fetchReportingRotation(fetch: HttpClient['fetch'], rotations: Map<string, (rotated: RotatedToken) => void>): oidc.CustomFetch {
  return async (url, options) => {
    const sent = options.body;
    const answer = await fetch(url, options as RequestInit);
    if (!(sent instanceof URLSearchParams) || !sent.has('grant_type')) return answer;
    const { response, body } = await readTokenAnswer(answer);
    const redeemed = sent.get('grant_type') === 'refresh_token' ? sent.get('refresh_token') : null;
    const report = redeemed === null ? undefined : rotations.get(redeemed);
    // Not JSON: openid-client reports it as such; nothing was rotated that we could keep.
    if (!report || response.status !== 200 || !body) return response;
    if (typeof body.refresh_token === 'string' && body.refresh_token !== '' && body.refresh_token !== redeemed) {
      report({ refreshToken: body.refresh_token, ...(typeof body.scope === 'string' ? { scope: body.scope } : {}) });
    }
    return response;
  };
}
