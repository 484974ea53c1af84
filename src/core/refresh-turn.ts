import type { UserProfile } from '../shared/ipc.ts';
import type { AccessToken } from './access-cache.ts';
import type { Logger } from './log.ts';
import type { RotatedToken, TokenResult } from './provider-client.ts';
import type { RefreshLock } from './refresh-lock.ts';

/**
 * One refresh's hold on the session entry, opened by `SessionStore.beginRefresh`
 * under the cross-process lock and closed by `release`. It stores what the
 * provider answers — persist first (RFC 9700 §4.14.2) and in one keychain write
 * on the common path — through the store, which owns the state it changes.
 */
export interface RefreshTurn {
  /** An access token another process refreshed, adopted instead of redeeming; undefined: redeem `refreshToken`. */
  readonly adopted: string | undefined;
  readonly refreshToken: string;
  /** The signed-in user (OpenID Connect Core §12.2: a refreshed ID token must name the same one); '' when unknown. */
  readonly sub: string;
  /**
   * Persist first: the rotated refresh token is written the moment the answer arrives, before its checks — with
   * the new access token in the same write when the (unchecked) ID token names our user, so the common path is
   * one keychain write. An access token whose checks then fail is taken out again at `release`.
   */
  storeRotation(rotated: RotatedToken): void;
  /** The checked answer: its tokens become the session's; stored with one write when the rotation did not carry them. */
  storeAnswer(result: TokenResult): void;
  /** The provider refused the refresh token: the entry is deleted while the lock is still held, so a newer session is never touched. */
  endSession(): Promise<void>;
  /** Waits for the keychain writes, then releases the lock. */
  release(): Promise<void>;
}

export interface RefreshTurnDeps {
  lock: RefreshLock;
  adopted: string | undefined;
  held: { refreshToken: string; sub: string };
  clock(): number;
  logger: Logger;
  /** Writes the entry (and the shared access token); `rotated` false: only worth it when there is someone to share the access token with. */
  persist(stored: { refreshToken: string; sub: string; access: AccessToken | undefined; rotated: boolean }): Promise<void>;
  /** The store takes the rotated refresh token into memory. */
  rotated(refreshToken: string, scope: string | undefined): void;
  /** The store takes the checked answer as the session's; returns the access token it now holds. */
  answered(result: TokenResult, claims: UserProfile | undefined): AccessToken;
  endSession(): Promise<void>;
}

export function openRefreshTurn(deps: RefreshTurnDeps): RefreshTurn {
  const { held, logger } = deps;
  const sent = held.refreshToken;
  let storing: Promise<void> | undefined;
  /** What the last write put in the keychain. */
  let written: { refreshToken: string; access?: string } | undefined;
  let accepted: AccessToken | undefined;

  const write = (refreshToken: string, access: AccessToken | undefined): void => {
    written = access ? { refreshToken, access: access.value } : { refreshToken };
    const rotated = refreshToken !== sent;
    const go = () => deps.persist({ refreshToken, sub: held.sub, access, rotated });
    storing = storing ? storing.then(go, go) : go();
  };

  const storeRotation = (rotated: RotatedToken): void => {
    if (written || rotated.refreshToken === sent) return;
    deps.rotated(rotated.refreshToken, rotated.scope);
    const namesOurUser = rotated.idTokenSub === undefined || !held.sub || rotated.idTokenSub === held.sub;
    const access =
      rotated.accessToken !== undefined && namesOurUser
        ? { value: rotated.accessToken, refreshedAt: deps.clock(), ...(rotated.expiresAt !== undefined ? { expiresAt: rotated.expiresAt } : {}) }
        : undefined;
    write(rotated.refreshToken, access);
  };

  return {
    adopted: deps.adopted,
    refreshToken: sent,
    sub: held.sub,
    storeRotation,
    storeAnswer(result) {
      if (result.refreshToken) storeRotation({ refreshToken: result.refreshToken, ...(result.scope ? { scope: result.scope } : {}) });
      accepted = deps.answered(result, result.user);
      // Not rotated (nothing written yet), or rotated without the access token: one write now.
      if (written?.access !== accepted.value) write(written?.refreshToken ?? sent, accepted);
    },
    endSession: () => deps.endSession(),
    async release() {
      const stored = async () => {
        await storing?.catch((storeError: unknown) => logger.error('storing the rotated refresh token failed', { error: String(storeError) }));
      };
      await stored();
      if (written?.access !== undefined && written.access !== accepted?.value) {
        // The answer failed its checks after the access token was stored with the rotation: other processes must not use it.
        write(written.refreshToken, undefined);
        await stored();
      }
      await deps.lock.release();
    },
  };
}
