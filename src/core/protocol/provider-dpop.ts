import * as oidc from 'openid-client';
import { type DpopKey } from '../dpop/key.ts';
import { createDpopNonces, createDpopProof } from '../dpop/proof.ts';

/**
 * The provider side of DPoP (RFC 9449 §5): openid-client's handle for each
 * session key — it signs the token endpoint's proofs and answers a
 * `use_dpop_nonce` error once with the nonce the provider gave, remembering it
 * for the process — and the proof on revocation requests, which openid-client
 * does not send itself (the key a bound refresh token is revoked with).
 */
export interface ProviderDpop {
  /** The handle for `key`, one per key for the life of the process (its nonces with it); the key's WebCrypto pair is imported for it. */
  handleFor(key: DpopKey): Promise<oidc.DPoPHandle>;
  /** Revocation of `token` sends a proof with this key until `forget`. */
  proveRevocation(token: string, key: DpopKey): void;
  forget(token: string): void;
  /** openid-client's `customFetch`, wrapped: a revocation request in `proveRevocation` gets a `DPoP` header. */
  wrapFetch(fetch: oidc.CustomFetch, revocationEndpoint: () => string | undefined): oidc.CustomFetch;
}

export function createProviderDpop(configuration: () => oidc.Configuration): ProviderDpop {
  const handles = new WeakMap<DpopKey, Promise<oidc.DPoPHandle>>();
  const revoking = new Map<string, DpopKey>();
  const nonces = createDpopNonces();
  return {
    handleFor(key) {
      let handle = handles.get(key);
      if (!handle) {
        handle = key.keys().then((pair) => oidc.getDPoPHandle(configuration(), pair));
        handles.set(key, handle);
      }
      return handle;
    },
    proveRevocation: (token, key) => void revoking.set(token, key),
    forget: (token) => void revoking.delete(token),
    wrapFetch(fetch, revocationEndpoint) {
      return async (url, options) => {
        const body = options.body;
        const token = body instanceof URLSearchParams ? body.get('token') : null;
        const key = token !== null && url === revocationEndpoint() ? revoking.get(token) : undefined;
        if (!key) return fetch(url, options);
        const send = async (nonce: string | undefined) => {
          const proof = await createDpopProof(key, { method: 'POST', url, ...(nonce !== undefined ? { nonce } : {}) });
          const response = await fetch(url, { ...options, headers: { ...options.headers, dpop: proof } });
          nonces.remember(url, response.headers.get('dpop-nonce'));
          return response;
        };
        const sentNonce = nonces.get(url);
        const response = await send(sentNonce);
        // RFC 9449 §8: a provider that wants a (fresh) nonce says so once; the request is sent again with it.
        if (response.status !== 400 || nonces.get(url) === sentNonce || !(await isNonceError(response))) return response;
        return send(nonces.get(url));
      };
    },
  };
}

async function isNonceError(response: Response): Promise<boolean> {
  try {
    return ((await response.clone().json()) as { error?: unknown }).error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}
