import type { Logger } from '../log.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { Refresher } from '../tokens/refresher.ts';
import { revokeAtLogout, type LogoutResult } from './revocation.ts';
import type { SessionStore } from './state.ts';

/**
 * Forgets the session here — always, under the lock — then revokes its refresh
 * tokens at the provider when it can (RFC 7009) and hands back the provider's
 * end-session page (RP-Initiated Logout 1.0). Revocation runs after the local
 * sign-out, outside the lock: a slow provider must not hold up other processes.
 */
export async function signOut(deps: {
  store: SessionStore;
  refresher: Refresher;
  signIn: { cancel(): void };
  getProvider(): Promise<ProviderClient>;
  logger: Logger;
}): Promise<LogoutResult> {
  const { store, refresher, logger } = deps;
  // A locked-away session can be neither revoked nor deleted: keep it rather than half sign out.
  const outOfReach = store.entry?.outOfReach;
  if (outOfReach) throw outOfReach;
  deps.signIn.cancel();
  await refresher.whenIdle();
  const tokens = await store.forget();
  refresher.cancelRetry();
  const client = await deps.getProvider().catch((providerError: unknown) => {
    logger.warn('provider unreachable at logout; the session was forgotten locally only', { error: String(providerError) });
    return undefined;
  });
  const revocation = await revokeAtLogout(client, tokens, logger);
  if (revocation.notice) store.noteSignedOut(revocation.notice);
  const endSessionUrl = client?.endSessionUrl();
  return endSessionUrl === undefined ? revocation : { ...revocation, endSessionUrl };
}
