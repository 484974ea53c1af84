import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';

/** How far a proof's `iat` may be from now, and how long its `jti` is remembered (RFC 9449 §11.1). */
export const PROOF_WINDOW_S = 60;
const NONCE_LIFETIME_MS = 60_000;

/** Why a request's proof was refused: `use_dpop_nonce` asks for the nonce in `DPoP-Nonce`; the rest are `invalid_dpop_proof`. */
export class DpopRejection extends Error {
  readonly error: 'invalid_dpop_proof' | 'use_dpop_nonce';

  constructor(error: DpopRejection['error'], message: string) {
    super(message);
    this.error = error;
  }
}

export interface DpopChecker {
  /**
   * Checks a request's proof for a bound access token (RFC 9449 §4.3, §7.1): one `DPoP` header, a
   * `dpop+jwt` signed by the public key it carries (no private members), `htm` and `htu` of this
   * request, `iat` within the window, `ath` the token's hash, `jti` not seen within the window, the
   * key's thumbprint the token's `cnf.jkt` — and, when nonces are demanded, a current nonce.
   */
  check(request: { method: string; url: string; proofs: string[]; accessToken: string; jkt: string }): Promise<void>;
  /** The nonce to hand out now (`DPoP-Nonce`). */
  currentNonce(): string;
}

export function createDpopChecker(options: { requireNonce: boolean; now?: () => number }): DpopChecker {
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  let nonces = { current: randomBytes(16).toString('base64url'), previous: '', rotatedAt: now() };

  const currentNonce = (): string => {
    if (now() - nonces.rotatedAt > NONCE_LIFETIME_MS) nonces = { current: randomBytes(16).toString('base64url'), previous: nonces.current, rotatedAt: now() };
    return nonces.current;
  };

  const forgetOldProofs = (nowS: number): void => {
    for (const [jti, expiresAt] of seen) if (expiresAt < nowS) seen.delete(jti);
  };

  return {
    currentNonce,
    async check({ method, url, proofs, accessToken, jkt }) {
      if (proofs.length !== 1) throw new DpopRejection('invalid_dpop_proof', proofs.length === 0 ? 'A DPoP-bound access token needs a DPoP proof' : 'Send exactly one DPoP proof');
      let payload: Record<string, unknown>;
      let jwk: Record<string, unknown>;
      try {
        const verified = await jwtVerify(proofs[0] as string, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA', 'Ed25519'] });
        payload = verified.payload as Record<string, unknown>;
        jwk = verified.protectedHeader.jwk as Record<string, unknown>;
      } catch {
        throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof signature is invalid');
      }
      if ('d' in jwk) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof carries a private key');
      const nowS = Math.floor(now() / 1000);
      const target = new URL(url);
      if (payload.htm !== method) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof is for another method (htm)');
      if (payload.htu !== `${target.origin}${target.pathname}`) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof is for another URL (htu)');
      if (typeof payload.iat !== 'number' || Math.abs(nowS - payload.iat) > PROOF_WINDOW_S) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof is too old or from the future (iat)');
      if (payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof is for another access token (ath)');
      if ((await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0])) !== jkt) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof is signed by a key the access token is not bound to (cnf.jkt)');
      if (options.requireNonce && (typeof payload.nonce !== 'string' || (payload.nonce !== currentNonce() && payload.nonce !== nonces.previous))) {
        throw new DpopRejection('use_dpop_nonce', 'Resource server requires nonce in DPoP proof');
      }
      if (typeof payload.jti !== 'string' || payload.jti === '') throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof has no jti');
      forgetOldProofs(nowS);
      const key = `${jkt}:${payload.jti}`;
      if (seen.has(key)) throw new DpopRejection('invalid_dpop_proof', 'The DPoP proof was used before (jti replay)');
      seen.set(key, payload.iat + PROOF_WINDOW_S);
    },
  };
}
