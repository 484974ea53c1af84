import { isUsable, type AccessToken } from './access-cache.ts';
import { AuthError } from './errors.ts';
import type { Refresher, SessionData } from './refresh-flight.ts';
import { renewalTimes, type RetrySchedule } from './renewal.ts';

/** How callers get an access token: from memory while it is fresh, else from the shared cache, else from the one refresh in flight. */
export interface AccessTokens {
  /** A valid access token, refreshed first when it is missing or about to expire (renewed ahead in the background). */
  get(): Promise<string>;
  /** After an API answered 401 for `rejected`: a newer token, with at most one refresh however many callers ask. */
  afterUnauthorized(rejected: string): Promise<string>;
}

export function createAccessTokens(deps: {
  data: SessionData;
  refresher: Refresher;
  retries: RetrySchedule;
  clock(): number;
  /** The access token other processes of this session share (the keychain cache), if any. */
  readShared(): Promise<AccessToken | undefined>;
  /** The message of the session's current error, for callers turned away during backoff. */
  offlineMessage(): string | undefined;
}): AccessTokens {
  const { data, refresher, retries } = deps;

  const requireSession = () => {
    if (!data.refreshToken && !data.accessOnly) throw new AuthError('signed_out', 'You are not signed in — sign in first.');
  };

  /** While offline with a retry scheduled, callers needing a new token fail fast instead of defeating the backoff; `retryNow()` overrides. */
  const refreshUnlessBackingOff = (): Promise<string> => {
    if (retries.pending && !refresher.running) {
      return Promise.reject(new AuthError('provider_unreachable', deps.offlineMessage() ?? 'The provider cannot be reached right now; Latchkey keeps retrying.'));
    }
    return refresher.refresh();
  };

  let sharedRead: Promise<void> | undefined;
  /** Adopts the shared token when it is usable and newer than ours: another process refreshed, so this one need not. One read for all concurrent callers. */
  const adoptShared = (): Promise<void> =>
    (sharedRead ??= deps
      .readShared()
      .then((cached) => {
        if (cached && cached.value !== data.access?.value && isUsable(cached, deps.clock()) && (cached.expiresAt ?? Infinity) > (data.access?.expiresAt ?? 0)) data.access = cached;
      })
      .finally(() => {
        sharedRead = undefined;
      }));

  const freshInMemory = (): string | undefined => {
    const { access } = data;
    if (!access) return undefined;
    if (access.expiresAt === undefined || deps.clock() < renewalTimes(access.refreshedAt, access.expiresAt).refreshAt) return access.value;
    return undefined;
  };

  const get = async (): Promise<string> => {
    requireSession();
    const fresh = freshInMemory();
    if (fresh !== undefined) return fresh;
    const held = data.access;
    if (held && isUsable(held, deps.clock())) {
      // Refresh ahead: hand out the still-valid token now; in the background, take the shared one if
      // another process renewed it already, else renew it here (single-flight).
      if (!retries.pending) {
        void (refresher.running ? Promise.resolve() : adoptShared())
          .then(() => (freshInMemory() === undefined ? refresher.refresh() : undefined))
          .catch(() => {});
      }
      return held.value;
    }
    if (!refresher.running) await adoptShared();
    const shared = data.access;
    if (shared && isUsable(shared, deps.clock())) {
      if (freshInMemory() === undefined && !retries.pending) void refresher.refresh().catch(() => {});
      return shared.value;
    }
    return refreshUnlessBackingOff();
  };

  const afterUnauthorized = async (rejected: string): Promise<string> => {
    requireSession();
    const answering = refresher.awaitingAnswer;
    if (answering) return answering;
    if (data.access && data.access.value !== rejected) return get();
    const running = refresher.running;
    if (running) {
      await running;
      if (data.access && data.access.value !== rejected) return get();
    }
    return refreshUnlessBackingOff();
  };

  return { get, afterUnauthorized };
}
