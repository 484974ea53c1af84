import { isUsable } from '../entry/shared-access-token.ts';
import { AuthError, notSignedIn } from '../errors.ts';
import type { Refresher } from './refresher.ts';
import { renewalTimes } from './retry-schedule.ts';
import type { SessionState } from '../session/state.ts';

/** How callers get an access token: from the store while it is fresh, else from the shared cache, else from the one refresh in flight. */
export interface AccessTokens {
  /** A valid access token, refreshed first when it is missing or about to expire (renewed ahead in the background). */
  get(): Promise<string>;
  /** After an API answered 401 for `rejected`: a newer token, with at most one refresh however many callers ask. */
  refreshAccessToken(rejected: string): Promise<string>;
}

export function createAccessTokens(deps: {
  store: SessionState;
  refresher: Refresher;
  clock(): number;
}): AccessTokens {
  const { store, refresher } = deps;
  const held = () => store.held.access;

  const requireSession = () => {
    if (!store.held.refreshToken && !store.held.accessOnly) throw notSignedIn();
  };

  /** While offline with a retry scheduled, callers needing a new token fail fast instead of defeating the backoff; `retryNow()` overrides. */
  const refreshUnlessBackingOff = (): Promise<string> => {
    if (refresher.backingOff && !refresher.running) {
      return Promise.reject(new AuthError('provider_unreachable', store.error?.message ?? 'The provider cannot be reached right now; Latchkey keeps retrying.'));
    }
    return refresher.refresh();
  };

  let sharedRead: Promise<void> | undefined;
  /** Offers the shared token to the store (`adoptShared`): another process may have refreshed, so this one need not. One read for all concurrent callers. */
  const adoptShared = (): Promise<void> =>
    (sharedRead ??= store
      .readShared()
      .then((cached) => void store.adoptShared(cached))
      .finally(() => {
        sharedRead = undefined;
      }));

  const freshInMemory = (): string | undefined => {
    const access = held();
    if (!access) return undefined;
    if (access.expiresAt === undefined || deps.clock() < renewalTimes(access.refreshedAt, access.expiresAt).refreshAt) return access.value;
    return undefined;
  };

  const get = async (): Promise<string> => {
    requireSession();
    const fresh = freshInMemory();
    if (fresh !== undefined) return fresh;
    const current = held();
    if (current && isUsable(current, deps.clock())) {
      // Refresh ahead: hand out the still-valid token now; in the background, take the shared one if
      // another process renewed it already, else renew it here (single-flight).
      if (!refresher.backingOff) {
        void (refresher.running ? Promise.resolve() : adoptShared())
          .then(() => (freshInMemory() === undefined ? refresher.refresh() : undefined))
          .catch(() => {});
      }
      return current.value;
    }
    if (!refresher.running) await adoptShared();
    const shared = held();
    if (shared && isUsable(shared, deps.clock())) {
      if (freshInMemory() === undefined && !refresher.backingOff) void refresher.refresh().catch(() => {});
      return shared.value;
    }
    return refreshUnlessBackingOff();
  };

  const afterUnauthorized = async (rejected: string): Promise<string> => {
    requireSession();
    const answering = refresher.awaitingAnswer;
    if (answering) return answering;
    if (held() && held()?.value !== rejected) return get();
    const running = refresher.running;
    if (running) {
      await running;
      if (held() && held()?.value !== rejected) return get();
    }
    return refreshUnlessBackingOff();
  };

  return { get, refreshAccessToken: afterUnauthorized };
}
