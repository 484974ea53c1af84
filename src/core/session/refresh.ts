import { isUsableAndNewer, type AccessToken } from '../entry/shared-access-token.ts';
import type { DpopKey } from '../dpop/key.ts';
import { adoptStoredDpopKey, boundAccess, usableWithKey } from '../dpop/binding.ts';
import { AuthError, notSignedIn } from '../errors.ts';
import { fingerprint } from '../log.ts';
import { type Logger } from '../../shared/logger.ts';
import type { RotatedToken } from '../protocol/token-answers.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import type { EntryLock } from '../entry/lock.ts';
import type { StoredSession } from '../entry/entry.ts';
import { lockEntry, readEntry, removeEntry, type EntryWrite, type StoreKeychain } from './session-keychain.ts';

/**
 * One refresh's hold on the session entry, opened by `beginRefreshTurn` (through `SessionStore.beginRefresh`)
 * under the cross-process lock and closed by `release`. It stores what the
 * provider answers — persist first (RFC 9700 §4.14.2) and in one keychain write
 * on the common path — through the store, which owns the state it changes.
 */
export interface RefreshTurn {
  /** An access token another process refreshed, adopted instead of redeeming; undefined: redeem `refreshToken`. */
  readonly adopted: string | undefined;
  /** The session stands on a long-lived access token (no refresh token): there is nothing to redeem. */
  readonly accessOnly: boolean;
  readonly refreshToken: string;
  /** The session's DPoP key (RFC 9449) the refresh proves possession of; undefined for a bearer session. */
  readonly dpop: DpopKey | undefined;
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
  /** Throws unless this process still holds the lock (it stalled and was overtaken): called right before redeeming. */
  assertHeld(): void;
  /** Waits for the keychain writes, then releases the lock. */
  release(): Promise<void>;
}

/** What a failed refresh means for the session: it ended (sign in again), the provider is out of reach for now (retry later), or only this call failed. */
export function refreshFailureMeaning(refreshError: unknown): 'ended' | 'offline' | 'failed' {
  const code = refreshError instanceof AuthError ? refreshError.code : undefined;
  if (code === 'session_ended' || code === 'signed_out') return 'ended';
  return code === 'provider_unreachable' || code === 'provider_error' ? 'offline' : 'failed';
}

/** The store's side of a refresh: what it holds, and the named transitions a turn asks of it (the store assigns). */
export interface RefreshTransitions {
  held(): { refreshToken?: string | undefined; accessOnly?: true | undefined; access?: AccessToken | undefined; user?: { sub: string } | undefined; generation?: string | undefined; dpop?: DpopKey | undefined };
  /** Another process rotated the token since we read it: the stored one (and the key stored with it) is the live one. */
  takeStored(stored: StoredSession, dpop: DpopKey | undefined): void;
  /** Another process just refreshed: its access token serves our callers (the entry is as we read it at `generation`). */
  takeShared(access: AccessToken, generation: string | undefined): void;
  /** The rotated refresh token, in memory. */
  takeRotation(refreshToken: string, scope: string | undefined): void;
  /** The checked answer becomes the session's; returns the access token now held. */
  takeAnswer(result: TokenResult): AccessToken;
  /** Announces the change (a new entry generation, which the store now holds), then writes the entry (see `writeEntry`) with the session's scope. */
  write(lock: EntryLock, write: Omit<EntryWrite, 'scope'>): Promise<void>;
}

/**
 * Takes the entry's lock for one refresh and makes sure this process holds the
 * live refresh token: the entry is re-read only when another process announced
 * a change since we last synced with it. When another process just refreshed,
 * its access token is adopted instead (`adopted`): no redeem needed.
 *
 * The change is announced just before the entry is written (or deleted), not
 * before the token request: every holder checks the generation under the lock
 * only, so announcing any earlier tells nobody anything more — and the file
 * write is then not in the callers' wait.
 */
export async function beginRefreshTurn(keychain: StoreKeychain, store: RefreshTransitions, deps: { clock(): number; logger: Logger }): Promise<RefreshTurn> {
  const { logger } = deps;
  const lock = await lockEntry(keychain, logger);
  try {
    let adopted: string | undefined;
    if (keychain.entry.shared) {
      const known = store.held().generation;
      if (known === undefined || lock.readGeneration() !== known) adopted = await adoptStored(keychain, store, lock.readGeneration(), deps);
    }
    const held = store.held();
    if (adopted === undefined && !held.refreshToken && !held.accessOnly) throw notSignedIn();
    const turn = openRefreshTurn({
      lock,
      adopted,
      held: { refreshToken: held.refreshToken ?? '', sub: held.user?.sub ?? '', dpop: held.dpop },
      clock: deps.clock,
      logger,
      persist: (write) => store.write(lock, write),
      rotated: (refreshToken, scope) => store.takeRotation(refreshToken, scope),
      answered: (result) => store.takeAnswer(result),
      endSession: async () => {
        if (keychain.entry.shared) lock.announceChange();
        await removeEntry(keychain, lock, logger, 'session end');
      },
    });
    return { ...turn, accessOnly: adopted === undefined && held.accessOnly === true };
  } catch (beginError) {
    await lock.release();
    throw beginError;
  }
}

/** Another process (the app, a CLI) may have rotated the token since we read it, or refreshed: take what it stored. Returns the access token it shared, when that serves our callers. */
async function adoptStored(keychain: StoreKeychain, store: RefreshTransitions, generation: string | undefined, deps: { clock(): number; logger: Logger }): Promise<string | undefined> {
  const { stored, shared } = await readEntry(keychain);
  if (!stored) throw new AuthError('signed_out', 'You were signed out in another Latchkey window — sign in again.');
  if (stored.access_token !== undefined) {
    // A session on a long-lived access token: another process's new sign-in serves our callers; the same token is the one refused.
    if (stored.access_token === store.held().access?.value) return undefined;
    store.takeStored(stored, await adoptStoredDpopKey(store.held().dpop, stored.dpop_key));
    return stored.access_token;
  }
  if (stored.refresh_token !== store.held().refreshToken) {
    deps.logger.info('using the refresh token another process stored', { refresh: fingerprint(stored.refresh_token) });
    store.takeStored(stored, await adoptStoredDpopKey(store.held().dpop, stored.dpop_key));
  }
  const usable = usableWithKey(shared, store.held().dpop);
  if (!isUsableAndNewer(usable, store.held().access, deps.clock())) return undefined;
  deps.logger.info('using the access token another process refreshed', { access: fingerprint(usable.value) });
  store.takeShared(usable, generation);
  return usable.value;
}

interface RefreshTurnDeps {
  lock: EntryLock;
  adopted: string | undefined;
  held: { refreshToken: string; sub: string; dpop: DpopKey | undefined };
  clock(): number;
  logger: Logger;
  /** Writes the entry (and the shared access token); `rotated` false: only worth it when there is someone to share the access token with. */
  persist(stored: Omit<EntryWrite, 'scope'>): Promise<void>;
  rotated(refreshToken: string, scope: string | undefined): void;
  answered(result: TokenResult): AccessToken;
  endSession(): Promise<void>;
}

function openRefreshTurn(deps: RefreshTurnDeps): Omit<RefreshTurn, 'accessOnly'> {
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
        ? { value: rotated.accessToken, refreshedAt: deps.clock(), ...(rotated.expiresAt !== undefined ? { expiresAt: rotated.expiresAt } : {}), ...boundAccess(rotated, held.dpop) }
        : undefined;
    write(rotated.refreshToken, access);
  };

  return {
    adopted: deps.adopted,
    refreshToken: sent,
    dpop: held.dpop,
    sub: held.sub,
    storeRotation,
    storeAnswer(result) {
      accepted = deps.answered(result);
      // Nothing written yet (not rotated, or the rotation was not seen early): one write of both now.
      // Rotated without the access token (its unchecked ID token named someone else): the access token now.
      if (written?.access !== accepted.value) write(written?.refreshToken ?? result.refreshToken ?? sent, accepted);
    },
    endSession: () => deps.endSession(),
    assertHeld: () => deps.lock.assertHeld(),
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
