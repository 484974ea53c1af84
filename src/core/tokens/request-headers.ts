import type { ApiRequest, ApiRequestHeaders } from '../../shared/auth-state.ts';
import type { DpopKey } from '../dpop/key.ts';
import { createDpopNonces, createDpopProof } from '../dpop/proof.ts';
import type { AccessToken } from './access-token.ts';
import { AuthError } from '../errors.ts';

/**
 * The headers for one call to the API (RFC 9449 §7.1, RFC 6750 §2.1): with a
 * bound access token, `Authorization: DPoP <token>` and a fresh `DPoP` proof
 * for this method and URL (`ath` = the token's hash); with a bearer one,
 * `Authorization: Bearer <token>`. The key never leaves this process: callers
 * (the renderer, `latchkey headers`) get one proof per call. Only URLs under
 * the configured API get any; a nonce the API asked for is remembered for its
 * origin (RFC 9449 §9).
 */
export function createRequestHeaders(deps: {
  apiBaseUrl: string;
  /** What the session has in memory now: its access token (and how it is bound) and its DPoP key. */
  memory(): { access?: AccessToken | undefined; dpop?: DpopKey | undefined };
  getAccessToken(): Promise<string>;
  clock(): number;
}): (request: ApiRequest) => Promise<ApiRequestHeaders> {
  const nonces = createDpopNonces();
  return async (request) => {
    const url = assertUnderApi(request.url, deps.apiBaseUrl);
    const method = assertMethod(request.method);
    if (request.nonce !== undefined) nonces.remember(url.href, request.nonce);
    const token = await deps.getAccessToken();
    const { access, dpop } = deps.memory();
    if (access?.value !== token || access.tokenType !== 'dpop' || !dpop || access.jkt !== dpop.jkt) return { Authorization: `Bearer ${token}` };
    const nonce = nonces.get(url.href);
    const proof = await createDpopProof(dpop, { method, url: url.href, accessToken: token, ...(nonce !== undefined ? { nonce } : {}) }, deps.clock());
    return { Authorization: `DPoP ${token}`, DPoP: proof };
  };
}

function assertUnderApi(raw: unknown, apiBaseUrl: string): URL {
  if (!apiBaseUrl) throw new AuthError('invalid_argument', 'No API is configured, so Latchkey gives no credentials for any URL. Set API_BASE_URL (or "apiBaseUrl") to your API.');
  const base = new URL(apiBaseUrl);
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : undefined;
  const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  if (!url || url.origin !== base.origin || !(url.pathname === base.pathname || url.pathname.startsWith(basePath)) || url.username || url.password) {
    throw new AuthError('invalid_argument', `Latchkey gives credentials only for the configured API (${base.href}); ${typeof raw === 'string' ? `"${raw.slice(0, 200)}"` : 'that'} is not under it.`);
  }
  return url;
}

const METHOD = /^[A-Za-z]{1,16}$/;

function assertMethod(raw: unknown): string {
  if (typeof raw !== 'string' || !METHOD.test(raw)) throw new AuthError('invalid_argument', 'The HTTP method must be a word such as GET or POST.');
  return raw.toUpperCase();
}
