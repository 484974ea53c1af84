// Calling the demo API (or UserInfo) with an access token as its holder would: a DPoP-bound token
// with a proof signed by the session's key — read from the session's keychain entry, as any process
// of the user's sharing the session reads it — and an unbound one as Bearer.
import keytar from 'keytar';
import { importDpopKey, parseStoredDpopKey, type StoredDpopKey } from '../../src/core/dpop/key.ts';
import { createDpopProof } from '../../src/core/dpop/proof.ts';

/** The DPoP private key stored with the session, if it has one. */
export async function storedDpopKey(service: string, account: string): Promise<StoredDpopKey | undefined> {
  const raw = await keytar.getPassword(service, account);
  if (raw === null) return undefined;
  return parseStoredDpopKey((JSON.parse(raw) as { dpop_key?: unknown }).dpop_key);
}

/** The headers for one request with `token`: a DPoP proof from `key` when given (RFC 9449 §7.1), else Bearer. */
export async function credentialsFor(token: string, url: string, key: StoredDpopKey | undefined, method = 'GET'): Promise<Record<string, string>> {
  if (!key) return { authorization: `Bearer ${token}` };
  return { authorization: `DPoP ${token}`, dpop: await createDpopProof(await importDpopKey(key), { method, url, accessToken: token }) };
}

/** The status `url` answers a GET with `token`, bound to the session's key when the session stored one. */
export async function statusWithToken(url: string, token: string, entry: { service: string; account: string }): Promise<number> {
  const key = await storedDpopKey(entry.service, entry.account);
  return (await fetch(url, { headers: await credentialsFor(token, url, key) })).status;
}

/** `Name: value` lines (what `latchkey headers` prints) as fetch headers. */
export function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 2);
  }
  return headers;
}

export type { StoredDpopKey };

/** `connectProvider(…).refresh`'s options for a token stored with `key`: a proof with that key (none for a bearer session). */
export async function withStoredKey(key: StoredDpopKey | undefined): Promise<{ dpop?: Awaited<ReturnType<typeof importDpopKey>> }> {
  return key ? { dpop: await importDpopKey(key) } : {};
}
