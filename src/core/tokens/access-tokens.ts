import { AuthError, notSignedIn } from '../errors.ts';
import { isUsable, renewalTimes, type AccessToken } from './access-token.ts';
import type { Refresher } from './refresher.ts';

/** How callers get an access token: from memory while it is fresh, else the one another process shared, else from the one refresh in flight. */
export interface AccessTokens {
  /** A valid access token, refreshed first when it is missing or about to expire (renewed ahead in the background). */
  get(): Promise<string>;
  /** After an API answered 401 for `rejected`: a newer token, with at most one refresh however many callers ask. */
  refreshAccessToken(rejected: string): Promise<string>;
}

/** What the access tokens are taken from: the session's memory, and the token other processes share. */
export interface TokenSource {
  /** The access token in memory. */
  access(): AccessToken | undefined;
  /** True while a session is in memory. */
  hasSession(): boolean;
  /** Takes the access token another process shared, when there is a newer usable one. */
  adoptShared(): Promise<void>;
  /** Why the last refresh failed, in words (shown while retries back off). */
  errorMessage(): string | undefined;
}

export function createAccessTokens(deps: { source: TokenSource; refresher: Refresher; clock(): number }): AccessTokens {
  const { source, refresher } = deps;
  const inMemory = () => source.access();

  const requireSession = () => {
    if (!source.hasSession()) throw notSignedIn();
  };

  /** While offline with a retry scheduled, callers needing a new token fail fast instead of defeating the backoff; `retryNow()` overrides. */
  const refreshUnlessBackingOff = (): Promise<string> => {
    if (refresher.backingOff && !refresher.running) {
      return Promise.reject(new AuthError('provider_unreachable', source.errorMessage() ?? 'The provider cannot be reached right now; Latchkey keeps retrying.'));
    }
    return refresher.refresh();
  };

  let sharedRead: Promise<void> | undefined;
  /** Another process may have refreshed, so this one need not: one look for all concurrent callers. */
  const adoptShared = (): Promise<void> =>
    (sharedRead ??= source.adoptShared().finally(() => {
      sharedRead = undefined;
    }));

  const freshInMemory = (): string | undefined => {
    const access = inMemory();
    if (!access) return undefined;
    if (access.expiresAt === undefined || deps.clock() < renewalTimes(access.refreshedAt, access.expiresAt).refreshAt) return access.value;
    return undefined;
  };

  const get = async (): Promise<string> => {
    requireSession();
    const fresh = freshInMemory();
    if (fresh !== undefined) return fresh;
    const current = inMemory();
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
    const shared = inMemory();
    if (shared && isUsable(shared, deps.clock())) {
      if (freshInMemory() === undefined && !refresher.backingOff) void refresher.refresh().catch(() => {});
      return shared.value;
    }
    return refreshUnlessBackingOff();
  };

  const refreshAccessToken = async (rejected: string): Promise<string> => {
    requireSession();
    const answering = refresher.awaitingAnswer;
    if (answering) return answering;
    if (inMemory() && inMemory()?.value !== rejected) return get();
    const running = refresher.running;
    if (running) {
      await running;
      if (inMemory() && inMemory()?.value !== rejected) return get();
    }
    return refreshUnlessBackingOff();
  };

  return { get, refreshAccessToken };
}
