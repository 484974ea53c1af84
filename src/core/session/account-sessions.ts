import { unwatchFile, watchFile } from 'node:fs';
import type { AccountSummary, AuthState } from '../../shared/auth-state.ts';
import { openAccountIndex, type AccountList } from '../accounts/account-index.ts';
import { defaultAccount, findAccount } from '../accounts/account-names.ts';
import { defaultLockDir } from '../entry/lock-folder.ts';
import { AuthError } from '../errors.ts';
import type { AuthSession, AuthSessionDeps } from './auth-session.ts';
import type { SignOutResult } from './sign-out.ts';
import { startAuthSession, type StartingAuthSession } from './start.ts';

/** How often the app looks whether another process (the CLI) added, removed or switched accounts. */
const INDEX_POLL_MS = 1_000;

/** The session of a window that lists every account and may act for any one of them, one at a time. */
export interface AccountSessions extends StartingAuthSession {
  /** The window acts for that account (by name or `sub`) from now on; its calls and state are that account's. */
  switchAccount(account: string): Promise<AuthState>;
  /** Signs out of every account (each revoked where the provider can), the window's last. */
  signOutAll(): Promise<SignOutResult[]>;
}

/**
 * The window's session over several accounts: an `AuthSession` for the account the window acts for (the default
 * when it opens), replaced by another account's on a switch. Every call — `getAccessToken`, `refreshAccessToken`,
 * `requestHeaders` — is the shown account's, and its state events carry the list of accounts (`accounts`), read
 * again whenever the index changes, so an account added or removed by the CLI shows up. Adding an account is a
 * sign-in with `adding` (the session then acts for whoever signed in); signing out of the window's account moves
 * the window to the next default. Each account keeps its own entry and lock: a switch never touches another entry.
 */
export function startAccountSessions(deps: AuthSessionDeps): AccountSessions {
  const lockDir = deps.lockDir ?? defaultLockDir();
  const index = openAccountIndex(deps.config, lockDir, deps.logger);
  const base: AuthSessionDeps = { ...deps, lockDir };
  const listeners = new Set<(state: AuthState) => void>();
  let closed = false;

  const withAccounts = (state: AuthState): AuthState => ({ ...state, accounts: summariesOf(index.read()) });
  /** The list the last state event carried: a change of the index file that leaves it as it is needs no event. */
  let emittedAccounts = '';
  const emit = (state: AuthState) => {
    const shown = withAccounts(state);
    emittedAccounts = JSON.stringify(shown.accounts);
    for (const listener of listeners) listener(shown);
  };

  let current: StartingAuthSession = startAuthSession(base);
  let unsubscribe = current.onStateChange(emit);
  let replacing: Promise<void> = Promise.resolve();

  /** The window now acts for `account` (undefined: the default): the previous account's session is closed, its entry untouched. */
  const actFor = async (account: string | undefined): Promise<void> => {
    const previous = current;
    unsubscribe();
    current = startAuthSession(account === undefined ? base : { ...base, account });
    unsubscribe = current.onStateChange(emit);
    await previous.close();
    await current.whenStarted();
    emit(current.getState());
  };
  const serially = (step: () => Promise<void>): Promise<void> => (replacing = replacing.then(step, step));

  const onIndexChanged = () => {
    if (closed || JSON.stringify(summariesOf(index.read())) === emittedAccounts) return;
    emit(current.getState());
  };
  watchFile(index.path, { interval: INDEX_POLL_MS, persistent: false }, onIndexChanged);

  const currentRecord = (list = index.read()) => list.accounts.find((account) => account.name === current.getState().account);

  const session: AuthSession = {
    getState: () => withAccounts(current.getState()),
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    signIn: (options) => current.signIn(options).then(withAccounts),
    cancelSignIn: () => current.cancelSignIn(),
    offersDeviceSignIn: () => current.offersDeviceSignIn(),
    async signOut() {
      const result = await current.signOut();
      // The window shows the account that is the default now, signed in; or signed out when none is left.
      const next = defaultAccount(index.read());
      if (next) await serially(() => actFor(next.sub));
      else emit(current.getState());
      return result;
    },
    getAccessToken: (api?: string) => current.getAccessToken(api),
    refreshAccessToken: (rejected) => current.refreshAccessToken(rejected),
    requestHeaders: (request) => current.requestHeaders(request),
    lookUpSharedTokens: () => current.lookUpSharedTokens().then(withAccounts),
    retryNow: () => current.retryNow(),
    retryKeychain: (mode) => current.retryKeychain(mode).then(withAccounts),
    whenIdle: () => current.whenIdle(),
    async close() {
      closed = true;
      unwatchFile(index.path, onIndexChanged);
      listeners.clear();
      await replacing;
      unsubscribe();
      await current.close();
    },
  };

  return {
    ...session,
    whenStarted: () => replacing.then(() => current.whenStarted()),
    async switchAccount(account) {
      const found = findAccount(index.read(), account);
      if (!found) throw new AuthError('account_unknown', `No account "${account}" is signed in at ${deps.config.issuer}; it may have been signed out elsewhere.`);
      if (currentRecord()?.sub !== found.sub) await serially(() => actFor(found.sub));
      return session.getState();
    },
    async signOutAll() {
      const results: SignOutResult[] = [];
      const shownSub = currentRecord()?.sub;
      for (const account of index.read().accounts) {
        if (account.sub === shownSub) continue;
        const other = startAuthSession({ ...base, account: account.sub });
        try {
          await other.whenStarted();
          results.push(await other.signOut());
        } finally {
          await other.close();
        }
      }
      // The window's own last: it is left signed out, with nothing to move to.
      if (current.getState().status !== 'signed-out' || shownSub !== undefined) results.push(await current.signOut());
      emit(current.getState());
      return results;
    },
  };
}

function summariesOf(list: AccountList): AccountSummary[] {
  return list.accounts.map((account) => ({ name: account.name, sub: account.sub, user: { ...account.user }, default: account.sub === list.defaultSub }));
}
