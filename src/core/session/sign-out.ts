import type { Logger } from '../../shared/logger.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { Refresher } from '../tokens/refresher.ts';
import type { SessionState } from './state.ts';
import type { ErrorInfo } from '../../shared/errors.ts';
import { AuthError } from '../errors.ts';
import { fingerprint } from '../log.ts';
import type { DpopKey } from '../dpop/key.ts';
import type { StandsOn } from '../../shared/auth-state.ts';
import type { AccountIndex } from '../accounts/account-index.ts';
import { defaultAccount } from '../accounts/account-names.ts';

/**
 * Forgets the session here — always, under the lock — then revokes its refresh
 * tokens at the provider when it can (RFC 7009) and hands back the provider's
 * end-session page (RP-Initiated Logout 1.0). Revocation runs after the local
 * sign-out, outside the lock: a slow provider must not hold up other processes.
 */
export async function signOut(deps: {
  state: SessionState;
  /** Every API's refreshes: waited for, and their retries stopped. */
  refresher: Pick<Refresher, 'whenIdle' | 'cancelRetry'>;
  signIn: { cancel(): void };
  getProvider(): Promise<ProviderClient>;
  logger: Logger;
  /** The accounts' index: the account signed out of leaves it (the others stay signed in). */
  accounts: AccountIndex;
}): Promise<SignOutResult> {
  const { state, refresher, logger } = deps;
  // A locked-away session can be neither revoked nor deleted: keep it rather than half sign out.
  const outOfReach = state.entry?.outOfReach;
  if (outOfReach) throw outOfReach;
  deps.signIn.cancel();
  await refresher.whenIdle();
  const account = state.account;
  const tokens = await state.forget();
  refresher.cancelRetry();
  // Only once its entry is gone does the account leave the index: an entry no account names would be lost to view.
  const next = account ? defaultAccount(await deps.accounts.remove(account.sub)) : undefined;
  const named = account ? { account: account.name, ...(next ? { nextDefault: next.name } : {}) } : {};
  const client = await deps.getProvider().catch((providerError: unknown) => {
    logger.warn('provider unreachable at sign-out; the session was forgotten locally only', { error: String(providerError) });
    return undefined;
  });
  const revocation = { ...(await revokeAtLogout(client, tokens, logger)), ...named };
  if (revocation.notice) state.noteSignedOut(revocation.notice);
  const endSessionUrl = client?.endSessionUrl();
  return endSessionUrl === undefined ? revocation : { ...revocation, endSessionUrl };
}

/** What the provider was told at sign-out. */
export type RevocationOutcome = 'revoked' | 'refused' | 'unreachable' | 'unsupported' | 'nothing-to-revoke';

/** What `AuthSession.signOut` answers. */
export interface SignOutResult {
  endSessionUrl?: string;
  /** False when the provider was not told; `notice` (also the state's error) then says why. */
  revoked: boolean;
  revocation: RevocationOutcome;
  notice?: ErrorInfo;
  /** The account signed out of, and the one that is the default now (undefined: none is left). */
  account?: string;
  nextDefault?: string;
}

export type RevocationResult = Omit<SignOutResult, 'endSessionUrl'>;

const STAYS_VALID = 'It stays valid at the provider until it expires.';

/**
 * Revokes the tokens a sign-out forgot (RFC 7009) and says honestly what
 * happened: revoked, refused by the provider (e.g. Glewlwyd refuses public
 * clients with HTTP 401), the provider unreachable, or no revocation endpoint.
 * Nothing retries a revocation later: the session is already forgotten here.
 */
export async function revokeAtLogout(client: ProviderClient | undefined, tokens: ReadonlyMap<string, { standsOn: StandsOn; dpop: DpopKey | undefined }>, logger: Logger): Promise<RevocationResult> {
  if (tokens.size === 0) return { revoked: true, revocation: 'nothing-to-revoke' };
  if (!client) return unreachable();
  if (typeof client.metadata.revocation_endpoint !== 'string') {
    return { revoked: false, revocation: 'unsupported', notice: { code: 'provider_error', message: `Signed out on this computer only: the provider offers no token revocation. ${STAYS_VALID}` } };
  }
  let failure: AuthError | undefined;
  for (const [token, { standsOn, dpop }] of tokens) {
    try {
      await client.revoke(token, dpop, standsOn);
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
