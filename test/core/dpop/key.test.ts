// The session's DPoP key and its proofs (RFC 9449), checked by jose — not by the code under test.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createDpopKey, importDpopKey, loadStoredDpopKey, parseStoredDpopKey } from '../../../src/core/dpop/key.ts';
import { chooseTokenBinding } from '../../../src/core/dpop/binding.ts';
import { createDpopProof } from '../../../src/core/dpop/proof.ts';
import { parseStoredSession } from '../../../src/core/entry/format.ts';
import { PRESETS } from '../../../src/core/presets/presets.ts';

describe('the DPoP key', () => {
  it('is a P-256 key whose thumbprint (RFC 7638) is jose’s, survives its keychain form, and shows only the thumbprint when serialized', async () => {
    const key = await createDpopKey();
    const stored = key.toStored();
    expect(stored).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), d: expect.any(String), jkt: key.jkt });
    expect(key.jkt).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: stored.x, y: stored.y }));
    expect((await importDpopKey(stored)).jkt).toBe(key.jkt);
    expect(JSON.stringify({ key })).toBe(JSON.stringify({ key: { jkt: key.jkt } }));
    expect((await key.keys()).privateKey.extractable).toBe(false);
    expect((await createDpopKey()).jkt).not.toBe(key.jkt);
  });

  it('from its keychain form, imports its WebCrypto pair only when one is asked for, once; a key WebCrypto refuses, or a thumbprint beside it that is not its own, fails its first proof saying the stored key is damaged', async () => {
    const stored = (await createDpopKey()).toStored();
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    try {
      const key = await importDpopKey(stored);
      // What `latchkey token` does with a bound token (compare thumbprints) needs no WebCrypto.
      expect(key.jkt).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: stored.x, y: stored.y }));
      expect(importKey).not.toHaveBeenCalled();
      const [first, second] = await Promise.all([key.keys(), key.keys()]);
      expect(first).toBe(second);
      expect(importKey).toHaveBeenCalledTimes(2);
      expect(first.privateKey.extractable).toBe(false);
    } finally {
      importKey.mockRestore();
    }
    const other = (await createDpopKey()).toStored();
    // The private key of another pair, a point off the curve, another key's thumbprint: each fails the first proof, saying so.
    for (const damaged of [{ ...stored, d: other.d }, { ...stored, y: stored.x }, { ...stored, jkt: other.jkt! }]) {
      const key = await loadStoredDpopKey(damaged);
      await expect(key!.keys()).rejects.toThrow(/DPoP key in the keychain is damaged .*sign in again \(latchkey login\)/);
    }
    // The thumbprint stored beside the key is the one taken (nothing hashed for a command that makes no proof); one stored without it is computed.
    expect((await importDpopKey({ ...stored, jkt: 'A'.repeat(43) })).jkt).toBe('A'.repeat(43));
    const { jkt: _jkt, ...withoutThumbprint } = stored;
    expect((await importDpopKey(withoutThumbprint)).jkt).toBe(stored.jkt);
  });

  it('refuses a stored key that is not a P-256 private JWK, and a session entry whose key is broken', async () => {
    const stored = (await createDpopKey()).toStored();
    expect(parseStoredDpopKey(stored)).toEqual(stored);
    expect(parseStoredDpopKey({ ...stored, d: undefined })).toBeUndefined();
    expect(parseStoredDpopKey({ ...stored, crv: 'P-384' })).toBeUndefined();
    expect(parseStoredDpopKey({ ...stored, kty: 'RSA' })).toBeUndefined();
    expect(parseStoredDpopKey('key')).toBeUndefined();
    const entry = { v: 1, refresh_token: 'rt', issuer: 'https://idp.example/', client_id: 'c', sub: 'alice' };
    expect(parseStoredSession(JSON.stringify({ ...entry, dpop_key: stored }))).toEqual({ ...entry, dpop_key: stored });
    expect(parseStoredSession(JSON.stringify({ ...entry, dpop_key: { ...stored, d: 'short' } }))).toBeUndefined();
  });
});

describe('a DPoP proof', () => {
  it('is a dpop+jwt signed by the public key it carries, for one method and URL (no query or fragment), the token’s hash and now', async () => {
    const key = await createDpopKey();
    const now = Date.UTC(2026, 11, 4, 12, 0, 0);
    const proof = await createDpopProof(key, { method: 'post', url: 'https://api.example.com/v1/items?page=2#top', accessToken: 'the-token', nonce: 'n-1' }, now);
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'], currentDate: new Date(now) });
    expect(protectedHeader.jwk).toEqual({ kty: 'EC', crv: 'P-256', x: key.toStored().x, y: key.toStored().y });
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[\w-]{22}$/),
      htm: 'POST',
      htu: 'https://api.example.com/v1/items',
      iat: now / 1000,
      ath: createHash('sha256').update('the-token').digest('base64url'),
      nonce: 'n-1',
    });
    const plain = await createDpopProof(key, { method: 'POST', url: 'https://idp.example.com/token' }, now);
    const { payload: other } = await jwtVerify(plain, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(now) });
    expect(other).not.toHaveProperty('ath');
    expect(other).not.toHaveProperty('nonce');
    expect(other.jti).not.toBe(payload.jti);
    expect(JSON.stringify(decodeProtectedHeader(plain))).not.toMatch(/"d"/);
  });
});

describe('whether a sign-in binds its tokens', () => {
  const offered = { dpop_signing_alg_values_supported: ['ES256', 'EdDSA'] };
  const issuer = 'https://idp.example.com/';

  it('auto: DPoP when the metadata offers ES256, bearer otherwise; off: never; required: a refusal that says why and what to do', () => {
    expect(chooseTokenBinding('auto', offered, issuer)).toBe('dpop');
    expect(chooseTokenBinding(undefined, offered, issuer)).toBe('dpop');
    expect(chooseTokenBinding('auto', {}, issuer)).toBe('bearer');
    expect(chooseTokenBinding('auto', { dpop_signing_alg_values_supported: ['EdDSA'] }, issuer)).toBe('bearer');
    expect(chooseTokenBinding('off', offered, issuer)).toBe('bearer');
    expect(chooseTokenBinding('required', offered, issuer)).toBe('dpop');
    expect(() => chooseTokenBinding('required', {}, issuer)).toThrow(
      expect.objectContaining({ code: 'provider_error', message: expect.stringMatching(/^DPoP is required \(AUTH_DPOP=required\) but the provider at https:\/\/idp\.example\.com\/ cannot bind tokens: its metadata does not list dpop_signing_alg_values_supported.*set AUTH_DPOP=auto/) }),
    );
    expect(() => chooseTokenBinding('required', { dpop_signing_alg_values_supported: ['EdDSA'] }, issuer)).toThrow(/offers DPoP only with EdDSA, and Latchkey signs proofs with ES256/);
  });

  it('a preset that documents DPoP (Okta, Auth0, Keycloak) binds under auto and satisfies required even when the metadata omits the member; a metadata list without ES256 still wins', () => {
    expect(chooseTokenBinding('auto', {}, issuer, true)).toBe('dpop');
    expect(chooseTokenBinding(undefined, {}, issuer, true)).toBe('dpop');
    expect(chooseTokenBinding('required', {}, issuer, true)).toBe('dpop');
    expect(chooseTokenBinding('off', {}, issuer, true)).toBe('bearer');
    expect(chooseTokenBinding('auto', {}, issuer, false)).toBe('bearer');
    expect(chooseTokenBinding('auto', { dpop_signing_alg_values_supported: ['EdDSA'] }, issuer, true)).toBe('bearer');
    expect(() => chooseTokenBinding('required', { dpop_signing_alg_values_supported: ['EdDSA'] }, issuer, true)).toThrow(/offers DPoP only with EdDSA/);
    for (const name of ['okta', 'auth0', 'keycloak'] as const) expect(PRESETS[name].dpop).toBe(true);
  });
});
