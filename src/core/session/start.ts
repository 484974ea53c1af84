import type { ApiConfig } from '../config/apis.ts';
import { trustSettingsOf } from '../config/auth-config.ts';
import { openAccountIndex, type AccountIndex, type AccountList, type AccountRecord } from '../accounts/account-index.ts';
import { accountName, defaultAccount, findAccount } from '../accounts/account-names.ts';
import { openSessionEntry, takeEntrySnapshot, type SessionEntry } from '../entry/entry.ts';
import { keychainAccount } from '../entry/format.ts';
import { AuthError } from '../errors.ts';
import { defaultLockDir } from '../entry/lock-folder.ts';
import { openProfileCache } from '../entry/profile-cache.ts';
import { openKeychain } from '../keychain/keychain.ts';
import { createLogger } from '../log.ts';
import type { HttpClient } from '../net/http.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import { backgroundTimers } from '../timers.ts';
import { createAccessTokens, type AccessTokens } from '../tokens/access-tokens.ts';
import { createRefresher } from '../tokens/refresher.ts';
import { createRequestHeaders } from '../tokens/request-headers.ts';
import { createRetrySchedule } from '../tokens/retry-schedule.ts';
import type { AuthSession, AuthSessionDeps, SignInOptions } from './auth-session.ts';
import type { SignIn } from './sign-in.ts';
import { SessionState } from './state.ts';


/** A session that exists before its stored state is read: `starting` until then (see `startAuthSession`). */
export interface StartingAuthSession extends AuthSession {
  /** Resolves once the stored session is read (the status leaves `starting`); rejects when the keychain could not be opened. */
  whenStarted(): Promise<void>;
}

/**
 * Creates the session for `config` and restores a stored one from the
 * keychain, without touching the network (see `startAuthSession`); resolves
 * once it is read.
 */
export async function createAuthSession(deps: AuthSessionDeps): Promise<AuthSession> {
  const session = startAuthSession(deps);
  await session.whenStarted();
  return session;
}

/**
 * The session for `config`, at once, in the `starting` state: it opens the
 * keychain and reads the stored session in the background — which may wait on
 * an unlock prompt as long as the user takes, shown as `keychainWaiting`, never
 * as signed out — and every call waits for that. With a stored refresh token
 * the state is then 'signed-in' with the cached profile, and the first access
 * token is fetched on first need (RFC 6749 §6). The provider is discovered
 * lazily, once, so this works offline.
 *
 * The session's state has one owner (`SessionState`); refreshes go through
 * `createRefresher` (single-flight) to `refreshSession` (the entry's lock, the
 * rotated token stored first). A refresh the provider refuses (HTTP 400/401) ends the
 * session; an unreachable provider leaves it intact and is retried with
 * backoff, 429 after Retry-After.
 */
export function startAuthSession(deps: AuthSessionDeps): StartingAuthSession {
  const { config } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger();
  const state = new SessionState({ config, clock, logger, ...(deps.onLockWait ? { onLockWait: deps.onLockWait } : {}) });
  let provider: Promise<ProviderClient> | undefined = deps.provider ? Promise.resolve(deps.provider) : undefined;
  let ownHttp: HttpClient | undefined;
  let closed = false;
  /** Best-effort revocations still in flight; close() lets them finish, so a short-lived process (the CLI) still sends them. */
  const revocations = new Set<Promise<void>>();

  const getProvider = (): Promise<ProviderClient> => {
    if (!provider) {
      // Loaded on first network need: a CLI answering from the shared access token never pays for them.
      provider = Promise.all([import('../protocol/provider-client.ts'), import('../net/http.ts')]).then(([{ connectProvider }, { createHttpClient }]) => {
        const http = deps.http ?? (ownHttp ??= createHttpClient(trustSettingsOf(config)));
        return connectProvider(config, { http, clock, logger, ...(deps.timers ? { timers: deps.timers } : {}) });
      });
      // A failed discovery is retried on next need rather than remembered.
      provider.catch(() => {
        provider = undefined;
      });
    }
    return provider;
  };

  /** The refreshes of the first API's token (`api` undefined) or of another API's: one refresher each, all from the one refresh token. */
  const refresherFor = (api: ApiConfig | undefined) =>
    createRefresher({
      // refresh.ts loads with the first refresh: a process answering from the shared access token never needs it.
      redeem: async (onAnswered) => {
        const [{ refreshSession }, provider] = await Promise.all([import('./refresh.ts'), getProvider()]);
        return refreshSession(state, entryOf(state), provider, { clock, logger, onAnswered }, api);
      },
      failed: (refreshError) => {
        state.refreshFailed(refreshError);
        noteEnded();
      },
      retries: createRetrySchedule({ timers: deps.timers ?? backgroundTimers, random: deps.random ?? Math.random, logger }),
      logger,
      isClosed: () => closed,
    });
  const refresher = refresherFor(undefined);
  const accessTokens = createAccessTokens({
    source: { access: () => state.memory.access, hasSession: () => state.hasSession, adoptShared: () => state.adoptShared(), errorMessage: () => state.error?.message },
    refresher,
    clock,
  });
  // Every API after the first: its own token from the same refresh token, shared with other processes in an item of its own.
  const otherApis = new Map(
    config.apis.slice(1).map((api) => {
      const apiRefresher = refresherFor(api);
      const tokens = createAccessTokens({
        source: { access: () => state.memory.apiAccess?.[api.name], hasSession: () => state.hasSession, adoptShared: () => state.adoptSharedApi(api), errorMessage: () => state.error?.message },
        refresher: apiRefresher,
        clock,
      });
      return [api.name, { refresher: apiRefresher, tokens }] as const;
    }),
  );
  const refreshers = [refresher, ...[...otherApis.values()].map((other) => other.refresher)];
  /** What a sign-in or sign-out waits for and stops: every API's refreshes. */
  const allRefreshes = {
    whenIdle: async () => {
      for (const each of refreshers) await each.whenIdle();
    },
    cancelRetry: (options?: { restart?: boolean }) => refreshers.forEach((each) => each.cancelRetry(options)),
  };
  /** The tokens of the API named `name` (the first API's when unnamed); an unknown name is refused, naming the configured ones. */
  const tokensOf = (name: string | undefined): AccessTokens => {
    if (name === undefined || name === config.apis[0]?.name) return accessTokens;
    const other = otherApis.get(name);
    if (!other) {
      const names = config.apis.map((api) => api.name);
      throw new AuthError('invalid_argument', `No API is named "${name}". ${names.length > 0 ? `The configured APIs are ${names.join(', ')}.` : 'No API is configured.'}`);
    }
    return other.tokens;
  };
  /** After an API's 401: the API whose token in memory was rejected (the first API's when none is). */
  const apiOfToken = (rejected: string): string | undefined => [...otherApis.keys()].find((name) => state.memory.apiAccess?.[name]?.value === rejected);
  const lockDir = deps.lockDir ?? defaultLockDir();
  const accounts = openAccountIndex(config, lockDir, logger);
  /** The provider ended the account's session (its entry is gone): the index says it is signed out, and keeps it to sign in again. */
  function noteEnded(): void {
    const account = state.account;
    if (!account || state.hasSession || account.standsOn === undefined) return;
    accounts.markEnded(account.sub).then(
      (list) => state.setAccount(list.accounts.find((listed) => listed.sub === account.sub)),
      (putError: unknown) => logger.warn('could not mark the account signed out in the account index', { error: String(putError) }),
    );
  }
  let openEntry: ((name: string) => SessionEntry) | undefined;
  // The sign-in's code loads with the first sign-in: a process answering from a stored session never needs it.
  let signInLoaded: Promise<SignIn> | undefined;
  const loadSignIn = (): Promise<SignIn> =>
    (signInLoaded ??= import('./sign-in.ts').then(({ createSignIn }) =>
      createSignIn({
        state,
        refresher: allRefreshes,
        getProvider,
        opener: deps.opener,
        config,
        logger,
        isClosed: () => closed,
        revocations,
        accounts,
        openEntry: (name) => {
          if (!openEntry) throw new Error('The session is still starting.');
          return openEntry(name);
        },
      }),
    ));
  /** Cancels a sign-in started before; none was if its code never loaded. Runs after a start that was asked first. */
  const cancelSignIn = (): void => {
    void signInLoaded?.then((signIn) => signIn.cancel());
  };

  const started = (async () => {
    // Chosen once, before anything else: a process keeps its account whatever becomes the default afterwards.
    const list = accounts.read();
    const chosen = deps.account === undefined ? defaultAccount(list) : findAccount(list, deps.account);
    if (deps.account !== undefined && !chosen) throw unknownAccount(deps.account, list, config.issuer);
    const onWaiting = () => {
      state.keychainWaiting();
      deps.onKeychainWaiting?.();
    };
    // No account yet: the entry earlier versions kept their one session in, which becomes the first account if it holds one.
    const entryName = chosen?.entry ?? keychainAccount(config);
    // The entry's generation before anything reads it: the keychain may read the entry while it opens (one round trip less).
    const snapshot = takeEntrySnapshot(config, entryName, lockDir);
    const keychain = deps.keychain ?? (await openKeychain(config.keychainService, { logger, onWaiting, readAhead: entryName }));
    const profileCache = deps.profileCache ?? openProfileCache(config.dataDir);
    openEntry = (name) => openSessionEntry({ config, account: name, keychain, profileCache, lockDir, logger, onDegraded: () => state.noteDegraded(), onWaiting, ...(name === entryName ? { snapshot } : {}) });
    state.open(openEntry(entryName), chosen);
    // Restore a stored session without any network call.
    await state.restore();
    if (!chosen) await adoptEarlierSession(state, accounts);
  })();
  started.catch(() => {});

  /** Every call waits for the stored session to be read. */
  const afterStart =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await started;
      return call(...args);
    };

  /** Token calls while the stored session is locked away say so, rather than "not signed in". */
  const inReach =
    <A extends unknown[]>(call: (...args: A) => Promise<string>) =>
    afterStart(async (...args: A): Promise<string> => {
      const outOfReach = entryOf(state).outOfReach;
      if (outOfReach && !state.hasSession) throw outOfReach;
      return call(...args);
    });

  const retryKeychain = async (mode: 'prompt' | 'check') => {
    const entry = entryOf(state);
    // Without word from the Secret Service, a look is a read, and a read of a refused entry asks again: only the user's click does that.
    if (entry.outOfReach && !closed && (mode === 'prompt' || entry.keychain === 'locked')) await state.restore({ prompt: mode === 'prompt' });
    return state.getState();
  };

  const retryNow = async (): Promise<void> => {
    if (entryOf(state).outOfReach) {
      await retryKeychain('check');
      return;
    }
    if (!state.memory.refreshToken || (state.status !== 'offline' && !refresher.running)) return;
    allRefreshes.cancelRetry();
    await refresher.refresh().catch(() => {});
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    cancelSignIn();
    closed = true;
    allRefreshes.cancelRetry();
    // A quit while the session is still opening waits for it, so nothing still reads the keychain or writes the data folder afterwards.
    await started.catch(() => {});
    await allRefreshes.whenIdle();
    await Promise.all(revocations);
    state.stopEvents();
    await ownHttp?.close();
  };

  return {
    getState: () => state.getState(),
    onStateChange: (listener) => state.onChange(listener),
    signIn: afterStart(async (options?: SignInOptions) => (await loadSignIn()).start(options)),
    cancelSignIn,
    // RFC 8628 §4; read here rather than through device-sign-in.ts, which would load openid-client for every `latchkey token`.
    offersDeviceSignIn: () => getProvider().then((client) => typeof client.metadata.device_authorization_endpoint === 'string', () => false),
    signOut: afterStart(async () => (await import('./sign-out.ts')).signOut({ state, refresher: allRefreshes, signIn: { cancel: cancelSignIn }, getProvider, logger, accounts })),
    getAccessToken: inReach(async (api?: string) => tokensOf(api).get()),
    requestHeaders: afterStart(
      createRequestHeaders({
        apis: config.apis,
        memory: (name) => ({ access: name === config.apis[0]?.name ? state.memory.access : state.memory.apiAccess?.[name], dpop: state.memory.dpop }),
        getAccessToken: inReach(async (name: string) => tokensOf(name).get()),
        clock,
      }),
    ),
    refreshAccessToken: inReach(async (rejected: string) => tokensOf(apiOfToken(rejected)).refreshAccessToken(rejected)),
    lookUpSharedTokens: afterStart(async () => {
      for (const api of config.apis.slice(1)) await state.adoptSharedApi(api);
      return state.getState();
    }),
    retryNow: afterStart(retryNow),
    retryKeychain: afterStart(retryKeychain),
    whenIdle: afterStart(() => refresher.whenIdle()),
    whenStarted: () => started,
    close,
  };
}

/**
 * A session stored by a version from before accounts (in the entry `clientId@issuer`) is the first account:
 * recorded in the index where it is — nothing is moved, so nothing can be lost on the way, and that version still
 * finds it. Best effort: without the record the session still works, and the next start records it.
 */
async function adoptEarlierSession(state: SessionState, accounts: AccountIndex): Promise<void> {
  const user = state.memory.user;
  const entry = state.entry;
  if (!state.hasSession || !user?.sub || !entry) return;
  const record: AccountRecord = { sub: user.sub, name: accountName(user), user, entry: entry.account, ...(state.memory.standsOn ? { standsOn: state.memory.standsOn } : {}) };
  try {
    await accounts.put(record, false);
    state.setAccount(record);
  } catch {
    // The lock folder is unusable: the session is in memory all the same.
  }
}

function unknownAccount(given: string, list: AccountList, issuer: string): AuthError {
  const names = list.accounts.map((account) => account.name);
  const known = names.length > 0 ? `The accounts signed in are: ${names.join(', ')}.` : 'No account is signed in.';
  return new AuthError('account_unknown', `No account "${given}" is signed in at ${issuer}. ${known} Give one of those names (or its sub), or sign in to add it.`);
}

function entryOf(state: SessionState) {
  const { entry } = state;
  if (!entry) throw new Error('The session is still starting.');
  return entry;
}
