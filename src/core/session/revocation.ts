import type { ErrorInfo } from '../../shared/errors.ts';
import { AuthError } from '../errors.ts';
import { fingerprint, type Logger } from '../log.ts';
import type { DpopKey } from '../dpop/key.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { SessionKind } from '../entry/entry.ts';

/** What the provider was told at logout. */
export type RevocationOutcome = 'revoked' | 'refused' | 'unreachable' | 'unsupported' | 'nothing-to-revoke';

/** What `AuthSession.logout` answers. */
export interface LogoutResult {
  endSessionUrl?: string;
  /** False when the provider was not told; `notice` (also the state's error) then says why. */
  revoked: boolean;
  revocation: RevocationOutcome;
  notice?: ErrorInfo;
}

export type RevocationResult = Omit<LogoutResult, 'endSessionUrl'>;

const STAYS_VALID = 'It stays valid at the provider until it expires.';

/**
 * Revokes the refresh tokens a logout forgot (RFC 7009) and says honestly what
 * happened: revoked, refused by the provider (e.g. Glewlwyd refuses public
 * clients with HTTP 401), the provider unreachable, or no revocation endpoint.
 * Nothing retries a revocation later: the session is already forgotten here.
 */
export async function revokeAtLogout(client: ProviderClient | undefined, tokens: ReadonlyMap<string, { kind: SessionKind; dpop: DpopKey | undefined }>, logger: Logger): Promise<RevocationResult> {
  if (tokens.size === 0) return { revoked: true, revocation: 'nothing-to-revoke' };
  if (!client) return unreachable();
  if (typeof client.metadata.revocation_endpoint !== 'string') {
    return { revoked: false, revocation: 'unsupported', notice: { code: 'provider_error', message: `Signed out on this computer only: the provider offers no token revocation. ${STAYS_VALID}` } };
  }
  let failure: AuthError | undefined;
  for (const [token, { kind, dpop }] of tokens) {
    try {
      await client.revoke(token, dpop, kind);
    } catch (error) {
      logger.warn('revocation failed', { error: error instanceof Error ? error.message : String(error), refresh: fingerprint(token) });
      failure ??= error instanceof AuthError ? error : new AuthError('provider_error', String(error));
    }
  }
  if (!failure) return { revoked: true, revocation: 'revoked' };
  if (failure.code === 'provider_unreachable') return unreachable();
  return { revoked: false, revocation: 'refused', notice: { code: 'provider_error', message: `Signed out on this computer only: ${lowerFirst(failure.message.replace(/\s*Check the application settings.*$/, ''))} ${STAYS_VALID}` } };
}

function unreachable(): RevocationResult {
  return { revoked: false, revocation: 'unreachable', notice: { code: 'provider_unreachable', message: `Signed out on this computer only: the provider could not be reached to revoke the session. ${STAYS_VALID}` } };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
