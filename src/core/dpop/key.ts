import { createHash, createPrivateKey, sign, type KeyObject, type webcrypto } from 'node:crypto';

// DPoP (RFC 9449): the session's key pair, made with WebCrypto and kept as a JWK — no protocol library — so the
// CLI's eager path can load it. Our own proofs (proof.ts: an API call's headers) are signed through node:crypto;
// openid-client's DPoP handle (protocol/provider-dpop.ts) signs the token endpoint's proofs with the same key in
// WebCrypto.

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** The private key as the session's keychain entry holds it (a P-256 JWK, `d` included). Never on disk, in logs or in the renderer. */
export interface StoredDpopKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
  /**
   * The public key's thumbprint as computed when the key was stored (not a JWK member: ours, beside them), so a
   * restore that makes no proof hashes nothing. Entries written without it get it computed when it is asked for.
   */
  jkt?: string;
}

/** One session's DPoP key pair, in memory. The private key cannot be exported from it; `toStored` is for the keychain entry only. */
export interface DpopKey {
  /**
   * The pair in WebCrypto, imported when the first proof is made: a command that prints a bound token without a
   * proof (`latchkey token`) never loads WebCrypto (about 4 ms of CPU on every start).
   */
  keys(): Promise<webcrypto.CryptoKeyPair>;
  /**
   * An ES256 signature (JWS form: r‖s, 64 bytes) over `input` with the private key, through node:crypto, which a
   * command that has node:net loaded already (a quick `headers`) loads and signs with in two thirds of WebCrypto's
   * time. The key is imported (and checked, as `keys()` checks it) on the first call; a damaged key throws, saying so.
   */
  sign(input: Uint8Array): Uint8Array;
  /** The JWK SHA-256 thumbprint (RFC 7638) of the public key: the `dpop_jkt` and the tokens' `cnf.jkt`. */
  readonly jkt: string;
  /** The private JWK, to write into the session's keychain entry. */
  toStored(): StoredDpopKey;
}

/** A fresh ES256 key pair for a new session (RFC 9449 §2: one key per client instance; here, per sign-in). */
export async function createDpopKey(): Promise<DpopKey> {
  const generated = await crypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const jwk = (await crypto.subtle.exportKey('jwk', generated.privateKey)) as Partial<StoredDpopKey>;
  const stored = parseStoredDpopKey(jwk);
  if (!stored) throw new Error('WebCrypto exported an unexpected P-256 JWK');
  return importDpopKey(stored);
}

/**
 * The key from its keychain form. It is imported when the first proof is made — into WebCrypto (the private key
 * non-extractable) for openid-client, into node:crypto for our own proofs — and that import is the key's check: a
 * key either refuses (a point off the curve, another pair's private key), or a stored thumbprint that is not the
 * key's own, fails that proof, saying the stored key is damaged. A command that makes no proof (`latchkey token`,
 * `status`) reads the thumbprint stored beside the key, and so loads neither WebCrypto nor node:crypto.
 */
export async function importDpopKey(stored: StoredDpopKey): Promise<DpopKey> {
  const { kty, crv, x, y, d } = stored;
  let jkt = stored.jkt;
  /** The key's check before either import: the thumbprint stored beside it must be its own, or a token bound to another key would go out with this one's proofs. */
  const checkThumbprint = () => {
    if (stored.jkt !== undefined && stored.jkt !== jwkThumbprint({ kty, crv, x, y })) throw new Error('its stored thumbprint is not its own');
  };
  const damaged = (error: unknown) =>
    new Error(`The session's DPoP key in the keychain is damaged (${error instanceof Error ? error.message : String(error)}): sign in again (latchkey login).`, { cause: error });
  let pair: Promise<webcrypto.CryptoKeyPair> | undefined;
  const keys = () =>
    (pair ??= (async () => {
      try {
        checkThumbprint();
        return {
          privateKey: await crypto.subtle.importKey('jwk', { kty, crv, x, y, d }, EC, false, ['sign']),
          // openid-client computes the thumbprint from the public key itself, so it must be exportable (it is public).
          publicKey: await crypto.subtle.importKey('jwk', { kty, crv, x, y }, EC, true, ['verify']),
        };
      } catch (error) {
        throw damaged(error);
      }
    })());
  let privateKey: KeyObject | undefined;
  const key: DpopKey = {
    keys,
    sign(input) {
      if (!privateKey) {
        try {
          checkThumbprint();
          privateKey = createPrivateKey({ key: { kty, crv, x, y, d }, format: 'jwk' });
        } catch (error) {
          throw damaged(error);
        }
      }
      return sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    },
    get jkt() {
      return (jkt ??= jwkThumbprint({ kty, crv, x, y }));
    },
    toStored: () => ({ kty, crv, x, y, d, jkt: key.jkt }),
  };
  // A key that ends up in a log or a JSON dump shows its thumbprint only.
  Object.defineProperty(key, 'toJSON', { enumerable: false, value: () => ({ jkt: key.jkt }) });
  return key;
}

/** The stored key, checked; undefined when the value is not a P-256 private JWK. */
export function parseStoredDpopKey(value: unknown): StoredDpopKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kty, crv, x, y, d } = value as Record<string, unknown>;
  const member = (part: unknown): part is string => typeof part === 'string' && /^[A-Za-z0-9_-]{43}$/.test(part);
  if (kty !== 'EC' || crv !== 'P-256' || !member(x) || !member(y) || !member(d)) return undefined;
  const { jkt } = value as Record<string, unknown>;
  return member(jkt) ? { kty, crv, x, y, d, jkt } : { kty, crv, x, y, d };
}

/** RFC 7638 §3: SHA-256 over the required members in lexical order, base64url (node:crypto's hash: no WebCrypto for it). */
function jwkThumbprint(jwk: { kty: string; crv: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The key stored with the session, or undefined when there is none; its check is its first proof (importDpopKey). */
export async function loadStoredDpopKey(stored: StoredDpopKey | undefined): Promise<DpopKey | undefined> {
  return stored ? importDpopKey(stored) : undefined;
}

/** The key another process stored with the session (a sign-in there makes a new one): the one we hold when it is the same. */
export async function adoptStoredDpopKey(held: DpopKey | undefined, stored: StoredDpopKey | undefined): Promise<DpopKey | undefined> {
  if (!stored) return undefined;
  if (held && held.toStored().d === stored.d) return held;
  return importDpopKey(stored);
}
