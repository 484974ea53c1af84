import type { webcrypto } from 'node:crypto';
import type { DpopMode } from '../config/values.ts';
import { AuthError } from '../errors.ts';

// DPoP (RFC 9449): the session's key pair, its proofs, and whether a provider gets one.
// WebCrypto only — no protocol library — so the CLI's eager path can load it; openid-client's
// own DPoP handle (provider-client.ts) signs the token endpoint's proofs with the same key.

/** The one algorithm Latchkey signs proofs with: ES256 (P-256), which every DPoP provider accepts. */
export const DPOP_ALGORITHM = 'ES256';
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The private key as the session's keychain entry holds it (a P-256 JWK, `d` included). Never on disk, in logs or in the renderer. */
export interface StoredDpopKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
}

/** One session's DPoP key pair, in memory. The private key cannot be exported from it; `toStored` is for the keychain entry only. */
export interface DpopKey {
  readonly pair: webcrypto.CryptoKeyPair;
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

/** The key pair from its keychain form; the private key is imported non-extractable. */
export async function importDpopKey(stored: StoredDpopKey): Promise<DpopKey> {
  const { kty, crv, x, y, d } = stored;
  const privateKey = await crypto.subtle.importKey('jwk', { kty, crv, x, y, d }, EC, false, ['sign']);
  // openid-client computes the thumbprint from the public key itself, so it must be exportable (it is public).
  const publicKey = await crypto.subtle.importKey('jwk', { kty, crv, x, y }, EC, true, ['verify']);
  const jkt = await jwkThumbprint({ kty, crv, x, y });
  const key: DpopKey = { pair: { privateKey, publicKey }, jkt, toStored: () => ({ kty, crv, x, y, d }) };
  // A key that ends up in a log or a JSON dump shows its thumbprint only.
  Object.defineProperty(key, 'toJSON', { enumerable: false, value: () => ({ jkt }) });
  return key;
}

/** The stored key, checked; undefined when the value is not a P-256 private JWK. */
export function parseStoredDpopKey(value: unknown): StoredDpopKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { kty, crv, x, y, d } = value as Record<string, unknown>;
  const member = (part: unknown): part is string => typeof part === 'string' && /^[A-Za-z0-9_-]{43}$/.test(part);
  if (kty !== 'EC' || crv !== 'P-256' || !member(x) || !member(y) || !member(d)) return undefined;
  return { kty, crv, x, y, d };
}

/** RFC 7638 §3: SHA-256 over the required members in lexical order, base64url. */
async function jwkThumbprint(jwk: { kty: string; crv: string; x: string; y: string }): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))));
}

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
 * SHA-256) and `nonce` when given. One proof serves one request.
 */
export async function createDpopProof(key: DpopKey, request: ProofRequest, nowMs: number = Date.now()): Promise<string> {
  const { kty, crv, x, y } = key.toStored();
  const url = new URL(request.url);
  const header = { typ: 'dpop+jwt', alg: DPOP_ALGORITHM, jwk: { kty, crv, x, y } };
  const payload: Record<string, unknown> = {
    jti: base64url(crypto.getRandomValues(new Uint8Array(16))),
    htm: request.method.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(nowMs / 1000),
  };
  if (request.accessToken !== undefined) payload.ath = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(request.accessToken))));
  if (request.nonce !== undefined) payload.nonce = request.nonce;
  const signingInput = `${base64url(encodeJson(header))}.${base64url(encodeJson(payload))}`;
  const signature = await crypto.subtle.sign(SIGN, key.pair.privateKey, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
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

/** How a session's tokens are bound: to this installation's key, or bearer. */
export type TokenBinding = 'dpop' | 'bearer';

/**
 * Whether a sign-in binds its tokens (RFC 9449 §5.1: a provider that supports
 * DPoP lists `dpop_signing_alg_values_supported` in its metadata). `auto` uses
 * DPoP where the provider offers ES256, or where its metadata lists no DPoP
 * algorithms but its preset documents DPoP support (`presetOffersDpop`: Okta,
 * Auth0, Keycloak); a metadata list without ES256 wins over the preset.
 * `required` refuses a provider that offers neither, saying why, before any
 * browser opens or code is shown; `off` never uses it.
 */
export function chooseTokenBinding(mode: DpopMode | undefined, metadata: Record<string, unknown>, issuer: string, presetOffersDpop = false): TokenBinding {
  if (mode === 'off') return 'bearer';
  const algorithms = metadata.dpop_signing_alg_values_supported;
  const listed = Array.isArray(algorithms) ? algorithms.filter((alg): alg is string => typeof alg === 'string') : [];
  if (listed.includes(DPOP_ALGORITHM)) return 'dpop';
  if (listed.length === 0 && presetOffersDpop) return 'dpop';
  if (mode !== 'required') return 'bearer';
  const why = listed.length === 0
    ? 'its metadata does not list dpop_signing_alg_values_supported, so it does not offer DPoP'
    : `it offers DPoP only with ${listed.join(', ')}, and Latchkey signs proofs with ${DPOP_ALGORITHM}`;
  throw new AuthError(
    'provider_error',
    `DPoP is required (AUTH_DPOP=required) but the provider at ${issuer} cannot bind tokens: ${why}. Enable DPoP for this application at the provider (the README's "DPoP" section says where for Okta, Auth0 and Keycloak), or set AUTH_DPOP=auto to accept bearer tokens.`,
  );
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
