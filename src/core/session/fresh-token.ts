import { existsSync } from 'node:fs';
import type { AuthConfig } from '../config/auth-config.ts';
import { defaultAccount, findAccount } from '../accounts/account-names.ts';
import { openAccountIndex } from '../accounts/account-index.ts';
import { importDpopKey, type DpopKey } from '../dpop/key.ts';
import { keychainAccount, parseStoredSession } from '../entry/format.ts';
import { entryLockPath, readEntryGeneration } from '../entry/lock.ts';
import { defaultLockDir } from '../entry/lock-folder.ts';
import { decodeAccess } from '../entry/shared-access-token.ts';
import { createSecretServiceProbe, type SecretServiceProbe } from '../keychain/secret-service.ts';
import { renewalTimes, usableWithKey, type AccessToken } from '../tokens/access-token.ts';

/** The access token a session shares, found fresh in its keychain entry, as the session would hold it (`tokenType` says whether it is DPoP-bound), and the session's DPoP key, whose thumbprint a bound token names. */
export interface FreshSharedToken {
  access: AccessToken;
  key: DpopKey | undefined;
}

/**
 * The access token a restored session would hand out at once — the one the account's keychain entry shares, fresh
 * and before its renewal time — read without starting a session: what `latchkey token` prints most of the time.
 * Undefined whenever the session itself has anything to decide: no such account, no Secret Service read (not Linux,
 * a locked or missing entry), a holder of the entry's lock at work or a change announced during the read, no shared
 * token or one in its own item, one for another issuer, client, API, user or generation, bound to another key, or
 * due for renewal. The caller then starts the session, which decides as it always does; every check here is the
 * session's own (`decodeAccess`, the generation, `usableWithKey`, `renewalTimes`), so this never hands out a token
 * the session would not.
 */
export async function readFreshSharedToken(
  config: AuthConfig,
  options: { account?: string | undefined; lockDir?: string; secretService?: SecretServiceProbe; now?: () => number } = {},
): Promise<FreshSharedToken | undefined> {
  const probe = options.secretService ?? (process.platform === 'linux' ? createSecretServiceProbe() : undefined);
  if (!probe?.read) return undefined;
  const lockDir = options.lockDir ?? defaultLockDir();
  const list = openAccountIndex(config, lockDir).read();
  const chosen = options.account === undefined ? defaultAccount(list) : findAccount(list, options.account);
  if (options.account !== undefined && !chosen) return undefined;
  const entryName = chosen?.entry ?? keychainAccount(config);
  const lockPath = entryLockPath(lockDir, config.keychainService, entryName);
  // As a restore judges its read: the generation before it, no holder at work, the same generation after it.
  const before = readEntryGeneration(lockPath);
  if (before === undefined || existsSync(lockPath)) return undefined;
  const found = await probe.read(config.keychainService, entryName);
  if (found?.state !== 'unlocked') return undefined;
  if (existsSync(lockPath) || readEntryGeneration(lockPath) !== before) return undefined;
  const stored = parseStoredSession(found.secret);
  if (!stored || stored.issuer !== config.issuer || stored.client_id !== config.clientId) return undefined;
  if (chosen && chosen.sub !== stored.sub) return undefined;
  if (typeof stored.access !== 'object') return undefined;
  const key = stored.dpop_key ? await importDpopKey(stored.dpop_key) : undefined;
  const shared = usableWithKey(decodeAccess(config, stored.access, { sub: stored.sub, generation: before }), key);
  if (!shared || shared.expiresAt === undefined) return undefined;
  if ((options.now ?? Date.now)() >= renewalTimes(shared.refreshedAt, shared.expiresAt).refreshAt) return undefined;
  return { access: shared, key };
}
