import { fingerprint, type Logger } from './log.ts';
import type { ProviderClient } from './provider-client.ts';

/** Revokes each refresh token at the provider (RFC 7009), best effort; true when every revocation was accepted. */
export async function revokeRefreshTokens(client: ProviderClient, tokens: Iterable<string>, logger: Logger): Promise<boolean> {
  let revoked = true;
  for (const token of tokens) {
    await client.revoke(token).catch((revokeError: unknown) => {
      revoked = false;
      logger.warn('revocation failed', { error: String(revokeError), refresh: fingerprint(token) });
    });
  }
  return revoked;
}
