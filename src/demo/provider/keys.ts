import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { writeFileAtomic } from '../atomic-file.ts';

export interface ProviderKeys {
  /** Private signing keys in JWK form, for oidc-provider's `jwks`. */
  jwks: { keys: Record<string, unknown>[] };
  /** Secrets that sign the provider's cookies, for `cookies.keys`. */
  cookieKeys: string[];
}

/**
 * The provider's signing key and cookie keys, generated on first start and
 * kept in `<dataDir>/keys.json` so tokens and sessions stay valid across restarts.
 */
export async function loadOrCreateKeys(dataDir: string): Promise<ProviderKeys> {
  const file = join(dataDir, 'keys.json');
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<ProviderKeys>;
    if (saved.jwks?.keys?.length && saved.cookieKeys?.length) return saved as ProviderKeys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const keys: ProviderKeys = {
    jwks: { keys: [{ ...jwk, alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') }] },
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify(keys, null, 2));
  return keys;
}
