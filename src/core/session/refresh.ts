import type { Logger } from '../../shared/logger.ts';
import type { ApiConfig } from '../config/apis.ts';
import { adoptStoredDpopKey } from '../dpop/key.ts';
import type { SessionEntry } from '../entry/entry.ts';
import type { EntryLock } from '../entry/lock.ts';
import { AuthError, notSignedIn } from '../errors.ts';
import { fingerprint } from '../log.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { TokenResult } from '../protocol/flow-context.ts';
import type { RotatedToken } from '../protocol/token-answers.ts';
import { accessFrom, isUsableAndNewer, usableWithKey, type AccessToken } from '../tokens/access-token.ts';
import type { SessionState } from './state.ts';

export interface RefreshDeps {
  clock(): number;
  logger: Logger;
  /** Gets the new access token as soon as the provider's answer passed its checks — before the keychain write ends. */
  onAnswered(accessToken: string): void;
}

/**
 * One refresh of the session, top to bottom, under the entry's cross-process
 * lock: take the lock → read the entry, only when another process changed it
 * since this one last read or wrote it (then its rotated token is the live one,
 * and a token it just refreshed serves our callers instead) → redeem the
 * refresh token (RFC 6749 §6) → store what came back → release the lock.
 *
 * Storing is persist-first (RFC 9700 §4.14.2): the rotated refresh token is
 * written the moment the answer arrives, before openid-client checks the ID
 * token (JWKS fetch, signature, clock) — the token just sent is spent — with
 * the new access token in the same write when the unchecked ID token names our
 * user, so the common path is one keychain write. The lock is released only
 * after the writes, so no process ever redeems a spent token. A provider that
 * refuses the refresh token ends the session: the entry is deleted while the
 * lock is still held, so a newer session is never touched.
 */
export async function refreshSession(state: SessionState, entry: SessionEntry, client: ProviderClient, deps: RefreshDeps, api?: ApiConfig): Promise<void> {
  const { logger } = deps;
  const lock = await entry.lock();
  try {
    if (entry.shared && (state.memory.generation === undefined || lock.readGeneration() !== state.memory.generation)) {
      const adopted = await readChangedEntry(state, entry, lock, deps, api);
      if (adopted !== undefined) return deps.onAnswered(adopted);
    }
    if (api && entry.shared) {
      // Another process may have refreshed this API without changing the entry (its refresh token did not rotate).
      const shared = usableWithKey(await entry.readApiToken(api, { sub: state.memory.user?.sub, signIn: state.memory.signIn }), state.memory.dpop);
      if (isUsableAndNewer(shared, state.memory.apiAccess?.[api.name], deps.clock())) {
        state.takeSharedApi(api, shared);
        return deps.onAnswered(shared.value);
      }
    }
    const { standsOn, refreshToken, dpop, user } = state.memory;
    if (api && standsOn === 'access_token') {
      throw new AuthError('config_invalid', `The session stands on one long-lived access token (the provider issues no refresh token), so there is no token for the API "${api.name}". List one API in "apis".`);
    }
    if (standsOn === 'access_token') {
      // Nothing to redeem: the access token was refused (a 401), and the provider issues no refresh token to renew it.
      await endSession(entry, lock);
      throw new AuthError(
        'session_ended',
        'Your session ended: the access token it stands on was refused (the authorization was revoked at the provider, or the token expired), and this provider issues no refresh token to renew it. Sign in again.',
      );
    }
    if (!refreshToken) throw notSignedIn();
    const sub = user?.sub ?? '';
    const writes = entryWrites(state, entry, lock, { sent: refreshToken, sub, api }, deps);
    try {
      let result: TokenResult;
      try {
        // A holder that stalled past the stale bound (Ctrl-Z) and was overtaken redeems nothing.
        lock.assertHeld();
        result = await client.refresh(refreshToken, { onRotated: writes.storeRotation, ...(dpop ? { dpop } : {}), ...(api ? { api } : {}) });
      } catch (refreshError) {
        if (refreshError instanceof AuthError && refreshError.code === 'session_ended') await endSession(entry, lock);
        throw refreshError;
      }
      const rotated = result.refreshToken !== undefined && result.refreshToken !== refreshToken;
      if (result.user && sub && result.user.sub !== sub) {
        // These tokens are not used; the rotated refresh token is stored all the same, since the one just sent is
        // spent and redeeming it again would look like reuse and revoke the family (OpenID Connect Core §12.2).
        if (result.refreshToken) writes.storeRotation({ refreshToken: result.refreshToken, ...(result.scope ? { scope: result.scope } : {}) });
        logger.warn('refreshed ID token names another user; tokens refused', { rotated });
        throw new AuthError('id_token_invalid', 'The provider renewed the session for a different user than the one signed in, so Latchkey did not use it. Sign out and sign in again.');
      }
      writes.storeAnswer(result);
      logger.info('access token refreshed', { ...(api ? { api: api.name } : {}), access: fingerprint(result.accessToken), refresh: fingerprint(result.refreshToken ?? refreshToken), rotated });
      // Callers get the token now; the next refresh still waits for this one, so the rotated token is stored first.
      deps.onAnswered(result.accessToken);
    } finally {
      await writes.finish();
    }
  } finally {
    await lock.release();
  }
}

/**
 * Under the lock, another process changed the entry: take what it stored. Returns the access token it shared when
 * that serves our callers (it just refreshed, so this process need not); undefined: redeem.
 */
async function readChangedEntry(state: SessionState, entry: SessionEntry, lock: EntryLock, deps: RefreshDeps, api: ApiConfig | undefined): Promise<string | undefined> {
  const found = await entry.read({}, lock);
  if (!found) throw new AuthError('signed_out', 'You were signed out in another Latchkey window — sign in again.');
  const { stored, shared } = found;
  const generation = lock.readGeneration();
  const key = () => adoptStoredDpopKey(state.memory.dpop, stored.dpop_key);
  if (stored.access_token !== undefined) {
    // A session on a long-lived access token: another process's new sign-in serves our callers; the same token is the one refused.
    if (stored.access_token === state.memory.access?.value) return undefined;
    state.takeStored(stored, await key(), generation);
    return stored.access_token;
  }
  if (stored.refresh_token !== state.memory.refreshToken) {
    deps.logger.info('using the refresh token another process stored', { refresh: fingerprint(stored.refresh_token) });
    state.takeStored(stored, await key(), generation);
  } else {
    state.synced(generation);
  }
  const usable = usableWithKey(shared, state.memory.dpop);
  if (!isUsableAndNewer(usable, state.memory.access, deps.clock())) return undefined;
  if (api) {
    // Kept, so that this refresh's write of the entry carries it on; a second API's own token is in an item of its own, which `refreshSession` reads next.
    state.takeShared(usable);
    return undefined;
  }
  deps.logger.info('using the access token another process refreshed', { access: fingerprint(usable.value) });
  state.takeShared(usable);
  return usable.value;
}

/** The provider refused the refresh token (or the long-lived access token): the entry is deleted while the lock is still held. */
async function endSession(entry: SessionEntry, lock: EntryLock): Promise<void> {
  if (entry.shared) lock.announceChange();
  await entry.remove(lock, 'session end');
}

/**
 * The keychain writes of one redeem of `sent` for `sub`, in order, each announced first (a new entry generation, which memory then matches).
 * For a second API (`api`), the entry keeps the first API's token beside the rotated refresh token, and the API's token goes to its own item.
 */
function entryWrites(state: SessionState, entry: SessionEntry, lock: EntryLock, { sent, sub, api }: { sent: string; sub: string; api: ApiConfig | undefined }, deps: RefreshDeps) {
  let storing: Promise<void> | undefined;
  /** What the last write put in the keychain. */
  let written: { refreshToken: string; access?: string } | undefined;
  let accepted: AccessToken | undefined;
  // The shared tokens of the other APIs name the sign-in; an entry stored before sign-ins had an id is written with one now.
  const newSignIn = api !== undefined && state.memory.signIn === undefined;
  const signIn = api ? state.ensureSignIn() : state.memory.signIn;

  const chain = (write: () => Promise<void>): void => {
    storing = storing ? storing.then(write, write) : write();
  };
  const store = (refreshToken: string, access: AccessToken | undefined): void => {
    written = access ? { refreshToken, access: access.value } : { refreshToken };
    chain(async () => {
      if (entry.shared) state.synced(await lock.announceChangeSoon());
      const { scope, dpop } = state.memory;
      await entry.write(lock, { token: refreshToken, standsOn: 'refresh_token', sub, scope, access, rotated: refreshToken !== sent || newSignIn, dpopKey: dpop?.toStored(), signIn });
    });
  };

  const stored = async (): Promise<void> => {
    await storing?.catch((storeError: unknown) => deps.logger.error('storing the rotated refresh token failed', { error: String(storeError) }));
  };

  return {
    /** The provider answered with a rotated refresh token: stored at once, before the answer's checks. */
    storeRotation(rotated: RotatedToken): void {
      if (written || rotated.refreshToken === sent) return;
      // A second API's answer carries that API's scope, not the sign-in's.
      state.takeRotation(rotated.refreshToken, api ? undefined : rotated.scope);
      if (api) return store(rotated.refreshToken, state.memory.access);
      const namesOurUser = rotated.idTokenSub === undefined || !sub || rotated.idTokenSub === sub;
      const access = rotated.accessToken !== undefined && namesOurUser ? accessFrom({ accessToken: rotated.accessToken, expiresAt: rotated.expiresAt, tokenType: rotated.tokenType }, deps.clock(), state.memory.dpop, state.memory.access) : undefined;
      store(rotated.refreshToken, access);
    },
    /** The checked answer: its tokens become the session's, and are stored unless the rotation's write already holds them. */
    storeAnswer(result: TokenResult): void {
      if (api) {
        const access = (accepted = state.takeApiAnswer(api, result));
        if (!written && ((result.refreshToken !== undefined && result.refreshToken !== sent) || newSignIn)) store(result.refreshToken ?? sent, state.memory.access);
        chain(() => entry.writeApiToken(lock, api, access, { sub, signIn: signIn! }));
        return;
      }
      accepted = state.takeAnswer(result);
      // Nothing written yet (not rotated, or the rotation was not seen early): one write of both now.
      // Rotated without the access token (its unchecked ID token named someone else): the access token now.
      if (written?.access !== accepted.value) store(written?.refreshToken ?? result.refreshToken ?? sent, accepted);
    },
    /** Waits for the writes; an access token stored with the rotation whose answer then failed its checks is taken out again. */
    async finish(): Promise<void> {
      await stored();
      if (!api && written?.access !== undefined && written.access !== accepted?.value) {
        store(written.refreshToken, undefined);
        await stored();
      }
    },
  };
}
