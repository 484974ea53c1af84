import { createHash, randomBytes } from 'node:crypto';
import type { DpopKey } from './key.ts';

// DPoP proofs (RFC 9449 §4): one signed JWT per request, and the nonces servers hand out (§8, §9).

/** The one algorithm Latchkey signs proofs with: ES256 (P-256), which every DPoP provider accepts. */
export const DPOP_ALGORITHM = 'ES256';

export interface ProofRequest {
  /** The HTTP method (`htm`). */
  method: string;
  /** The request URL; `htu` is it without query and fragment (RFC 9449 §4.2). */
  url: string;
  /** For a protected resource: the access token the proof is for (`ath`). */
  accessToken?: string;
  nonce?: string;
}

/**
 * A DPoP proof JWT (RFC 9449 §4.2): `typ` dpop+jwt, ES256, the public key in
 * `jwk`; `jti` unique, `htm`, `htu`, `iat`, and `ath` (the access token's
 * SHA-256) and `nonce` when given. One proof serves one request. Hashed and signed through node:crypto
 * (`DpopKey.sign`): no WebCrypto for a proof.
 */
export async function createDpopProof(key: DpopKey, request: ProofRequest, nowMs: number = Date.now()): Promise<string> {
  const { kty, crv, x, y } = key.toStored();
  const url = new URL(request.url);
  const header = { typ: 'dpop+jwt', alg: DPOP_ALGORITHM, jwk: { kty, crv, x, y } };
  const payload: Record<string, unknown> = {
    jti: randomBytes(16).toString('base64url'),
    htm: request.method.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(nowMs / 1000),
  };
  if (request.accessToken !== undefined) payload.ath = createHash('sha256').update(request.accessToken).digest('base64url');
  if (request.nonce !== undefined) payload.nonce = request.nonce;
  const signingInput = `${base64url(encodeJson(header))}.${base64url(encodeJson(payload))}`;
  return `${signingInput}.${base64url(key.sign(new TextEncoder().encode(signingInput)))}`;
}

/** The last `DPoP-Nonce` each server (by origin) handed this process (RFC 9449 §8, §9): the next proof to it carries it. */
export interface DpopNonces {
  get(url: string): string | undefined;
  remember(url: string, nonce: string | null | undefined): void;
}

export function createDpopNonces(): DpopNonces {
  const byOrigin = new Map<string, string>();
  return {
    get: (url) => byOrigin.get(new URL(url).origin),
    remember(url, nonce) {
      if (nonce) byOrigin.set(new URL(url).origin, nonce);
    },
  };
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
