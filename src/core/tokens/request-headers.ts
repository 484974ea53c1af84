import type { ApiRequest, ApiRequestHeaders } from '../../shared/auth-state.ts';
import type { DpopKey } from '../dpop/key.ts';
import { createDpopNonces, createDpopProof } from '../dpop/proof.ts';
import type { AccessToken } from './access-token.ts';
import { AuthError } from '../errors.ts';

/** An API as the headers see it: its name and the URL its requests are under. */
export interface ApiBase {
  name: string;
  baseUrl: string;
}

/**
 * The headers for one call to an API (RFC 9449 §7.1, RFC 6750 §2.1): with a
 * bound access token, `Authorization: DPoP <token>` and a fresh `DPoP` proof
 * for this method and URL (`ath` = the token's hash); with a bearer one,
 * `Authorization: Bearer <token>`. The key never leaves this process: callers
 * (the renderer, `latchkey headers`) get one proof per call. The API is the
 * one whose base URL the request's URL is under (the longest such base URL),
 * and the token is that API's: a token for one API is never sent to another.
 * URLs under no configured API get none; a nonce the API asked for is
 * remembered for its origin (RFC 9449 §9).
 */
export function createRequestHeaders(deps: {
  apis: readonly ApiBase[];
  /** What the session has in memory now for the API `name`: its access token (and how it is bound) and the DPoP key. */
  memory(name: string): { access?: AccessToken | undefined; dpop?: DpopKey | undefined };
  getAccessToken(name: string): Promise<string>;
  clock(): number;
}): (request: ApiRequest) => Promise<ApiRequestHeaders> {
  const nonces = createDpopNonces();
  return async (request) => {
    const { api, url } = apiForUrl(request.url, deps.apis);
    const method = assertMethod(request.method);
    if (request.nonce !== undefined) nonces.remember(url.href, request.nonce);
    const token = await deps.getAccessToken(api.name);
    const { access, dpop } = deps.memory(api.name);
    if (access?.value !== token || access.tokenType !== 'dpop' || !dpop || access.jkt !== dpop.jkt) return { Authorization: `Bearer ${token}` };
    const nonce = nonces.get(url.href);
    const proof = await createDpopProof(dpop, { method, url: url.href, accessToken: token, ...(nonce !== undefined ? { nonce } : {}) }, deps.clock());
    return { Authorization: `DPoP ${token}`, DPoP: proof };
  };
}

/** The API a request's URL is under — the one with the longest base URL, so `https://x/files/` wins over `https://x/` — or `invalid_argument` naming the configured APIs. */
export function apiForUrl<A extends ApiBase>(raw: unknown, apis: readonly A[]): { api: A; url: URL } {
  if (apis.length === 0) throw new AuthError('invalid_argument', 'No API is configured, so Latchkey gives no credentials for any URL. Set API_BASE_URL (or "apiBaseUrl", or "apis") to your API.');
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : undefined;
  const byLength = [...apis].sort((a, b) => new URL(b.baseUrl).href.length - new URL(a.baseUrl).href.length);
  const api = url && !url.username && !url.password ? byLength.find((candidate) => isUnder(url, new URL(candidate.baseUrl))) : undefined;
  if (!api || !url) {
    const configured = apis.length === 1 ? `the configured API (${new URL(apis[0]!.baseUrl).href})` : `the configured APIs (${apis.map((each) => `${each.name}: ${new URL(each.baseUrl).href}`).join(', ')})`;
    throw new AuthError('invalid_argument', `Latchkey gives credentials only for ${configured}; ${typeof raw === 'string' ? `"${raw.slice(0, 200)}"` : 'that'} is not under ${apis.length === 1 ? 'it' : 'any of them'}.`);
  }
  return { api, url };
}

function isUnder(url: URL, base: URL): boolean {
  const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return url.origin === base.origin && (url.pathname === base.pathname || url.pathname.startsWith(basePath));
}

const METHOD = /^[A-Za-z]{1,16}$/;

function assertMethod(raw: unknown): string {
  if (typeof raw !== 'string' || !METHOD.test(raw)) throw new AuthError('invalid_argument', 'The HTTP method must be a word such as GET or POST.');
  return raw.toUpperCase();
}
