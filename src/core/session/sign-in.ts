import type { StepUpRequest } from '../../shared/step-up.ts';
import type { AuthState } from '../../shared/auth-state.ts';
import type { SignInOptions } from './auth-session.ts';
import { AuthError } from '../errors.ts';
import { toErrorInfo } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { Opener } from '../protocol/flow-context.ts';
import type { Refresher } from '../tokens/refresher.ts';
import { EntryTakenError, type SessionState } from './state.ts';
import type { StandsOn } from '../../shared/auth-state.ts';
import { createSignInAttempts } from './sign-in-attempts.ts';
import type { DpopKey } from '../dpop/key.ts';
import { assertBoundAsRequired, keyForSignIn } from '../dpop/binding.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { AccountIndex, AccountRecord } from '../accounts/account-index.ts';
import { accountName, loginHintFor, promptForAdding } from '../accounts/account-names.ts';
import type { SessionEntry } from '../entry/entry.ts';
import { PRESETS } from '../presets/presets.ts';
import type { UserProfile } from '../../shared/auth-state.ts';

/** The interactive sign-in of one session: the newest attempt wins, and a completed one becomes the session. */
export interface SignIn {
  start(options?: SignInOptions): Promise<AuthState>;
  cancel(): void;
}

export function createSignIn(deps: {
  state: SessionState;
  /** Every API's refreshes: waited for, and their retries stopped. */
  refresher: Pick<Refresher, 'whenIdle' | 'cancelRetry'>;
  getProvider(): Promise<ProviderClient>;
  opener: Opener;
  config: Pick<AuthConfig, 'dpop' | 'issuer' | 'prompt' | 'provider'>;
  logger: Logger;
  /** The accounts' index: a completed sign-in is recorded there as the default account. */
  accounts: AccountIndex;
  /** The entry of the account kept under the keychain account `name` (see account-index.ts `entryNameFor`). */
  openEntry(name: string): SessionEntry;
  isClosed(): boolean;
  /** Best-effort revocations of replaced sessions still in flight (the session's close waits for them). */
  revocations: Set<Promise<void>>;
}): SignIn {
  const { state, refresher, logger } = deps;
  const attempts = createSignInAttempts();

  /** A session of no use any more (replaced, or refused as unbound): end it at the provider too (best effort). */
  const revokeInBackground = (token: string, key: DpopKey | undefined, what: string, standsOn: StandsOn = 'refresh_token'): void => {
    const revocation = deps
      .getProvider()
      .then((client) => client.revoke(token, key, standsOn))
      .catch((revokeError: unknown) => logger.warn(`could not revoke ${what}`, { error: String(revokeError) }))
      .finally(() => deps.revocations.delete(revocation));
    deps.revocations.add(revocation);
  };

  /**
   * Signs in through the system browser (RFC 8252: authorization code + PKCE,
   * loopback redirect), or with `method: 'device'` by a code entered on any
   * device (RFC 8628; the codes are shown through the session's state), and
   * stores the result as the session under the lock, either way alike.
   * A new call cancels a pending one (`sign_in_cancelled`).
   */
  const start = async (options: SignInOptions = {}): Promise<AuthState> => {
    if (deps.isClosed()) throw new AuthError('sign_in_cancelled', 'The session is closed.');
    // A sign-in the keychain cannot store would be lost (or kept in memory only): unlock first.
    await state.entry?.assertWritable();
    if (options.stepUp && options.method === 'device') throw new AuthError('invalid_argument', 'A stronger sign-in an API asks for goes through the browser; sign-in with a code cannot carry it.');
    // A step-up renews the account the API refused: never another one (RFC 9470 §5: the same user, signed in more strongly).
    const renewing = options.adding !== true || options.stepUp ? state.account : undefined;
    const parameters = { ...signInParameters(deps.config, renewing, deps.accounts.read().accounts.length > 0), ...(options.stepUp ? stepUpParameters(deps.config, options.stepUp) : {}) };
    const attempt = attempts.start();
    state.beginSignIn();
    try {
      let key: DpopKey | undefined;
      const signingIn = deps.getProvider().then(async (client) => {
        attempt.signal.throwIfAborted();
        // Before a browser opens or a code is shown: under `required`, a provider without DPoP is refused here.
        key = await keyForSignIn(deps.config, client.metadata, client.presetOffersDpop);
        if (options.method === 'device') {
          return client.deviceSignIn({
            signal: attempt.signal,
            ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
            ...(key ? { dpop: key } : {}),
            onCode: (prompt) => {
              if (attempt.isCurrent()) state.showDeviceCode(prompt);
            },
          });
        }
        return client.signIn({ opener: deps.opener, signal: attempt.signal, parameters, ...(key ? { dpop: key } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
      });
      const result = await attempt.race(signingIn);
      if (!attempt.isCurrent()) throw new AuthError('sign_in_cancelled', 'A new sign-in was started; this one was cancelled.');
      // No refresh token but an access token that does not expire (a GitHub OAuth App): that token is the session.
      const standing = result.refreshToken ? { token: result.refreshToken, standsOn: 'refresh_token' as const } : result.expiresAt === undefined ? { token: result.accessToken, standsOn: 'access_token' as const } : undefined;
      if (!standing) {
        throw new AuthError(
          'provider_error',
          'The provider signed you in but issued no refresh token, so the session cannot be kept. Allow offline access for this application at the provider (Auth0: enable "Allow Offline Access" on the API).',
        );
      }
      assertBoundAsRequired(deps.config, result, () => revokeInBackground(standing.token, key, 'the refused unbound session', standing.standsOn));
      const user: UserProfile = result.user ?? { sub: '' };
      if (renewing && user.sub !== renewing.sub) {
        // OpenID Connect Core §3.1.2.1: login_hint is only a hint; the provider may sign in whoever the person chose.
        revokeInBackground(standing.token, key, 'the sign-in as another user', standing.standsOn);
        throw new AuthError(
          'account_mismatch',
          `You signed in at the provider as ${accountName(user)}, but the account to renew is ${renewing.name}: nothing was changed. Sign in as ${renewing.name}, or sign in without naming an account to add ${accountName(user)} as another one.`,
        );
      }
      await refresher.whenIdle();
      refresher.cancelRetry({ restart: true });
      if (!renewing) {
        // Any user may have come back: the session now acts for that user's account, in that account's entry.
        const list = deps.accounts.read();
        const existing = list.accounts.find((account) => account.sub === user.sub);
        const entryName = deps.accounts.entryNameFor(user.sub, list);
        if (entryName !== state.entry?.account) state.switchTo(deps.openEntry(entryName), existing);
      }
      let replaced: Awaited<ReturnType<SessionState['adoptSignIn']>>;
      try {
        replaced = await state.adoptSignIn(result, standing, key);
      } catch (adoptError) {
        if (!(adoptError instanceof EntryTakenError) || renewing) throw adoptError;
        // The shared first entry was taken by another user's sign-in meanwhile: this user gets an entry of their own.
        state.switchTo(deps.openEntry(deps.accounts.ownEntryName(user.sub)), undefined);
        replaced = await state.adoptSignIn(result, standing, key);
      }
      if (replaced) revokeInBackground(replaced.token, replaced.dpop, 'the replaced session');
      const entryName = state.entry?.account;
      if (entryName !== undefined) {
        const record: AccountRecord = { sub: user.sub, name: accountName(user), user: shownUser(user), entry: entryName, standsOn: standing.standsOn };
        await deps.accounts.put(record, true);
        state.setAccount(record);
      }
      attempts.finish(attempt);
      state.endSignIn(undefined);
      return state.getState();
    } catch (loginError) {
      if (attempt.isCurrent()) {
        attempts.finish(attempt);
        const code = loginError instanceof AuthError ? loginError.code : undefined;
        // Cancelling is the user's own choice, not an error to show.
        state.endSignIn(code === 'sign_in_cancelled' ? undefined : toErrorInfo(loginError));
      }
      throw loginError;
    }
  };

  return { start, cancel: () => attempts.cancel('Sign-in was cancelled.') };
}

/**
 * What the authorization request adds to pick the user: renewing an account, a hint at it; adding one beside
 * others, the provider's account chooser. The first account is signed in as before (the configured prompt):
 * there is nobody yet to tell apart.
 */
function signInParameters(config: Pick<AuthConfig, 'prompt' | 'provider'>, renewing: AccountRecord | undefined, othersSignedIn: boolean): Record<string, string> {
  const preset = PRESETS[config.provider];
  if (renewing) return loginHintFor(renewing, preset);
  return othersSignedIn ? { prompt: promptForAdding(config.prompt, preset) } : {};
}

/**
 * The authorization request's part of a step-up: `acr_values` and `max_age` (RFC 9470 §4, OpenID Connect Core
 * §3.1.2.1) with `prompt=login` so the provider asks again rather than answering from its browser session (beside
 * the configured prompt, e.g. `consent`, which keeps the refresh token coming); or Entra's `claims` (§5.5).
 */
function stepUpParameters(config: Pick<AuthConfig, 'prompt'>, stepUp: StepUpRequest): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (stepUp.acrValues !== undefined) parameters.acr_values = stepUp.acrValues;
  if (stepUp.maxAge !== undefined) parameters.max_age = String(stepUp.maxAge);
  if (stepUp.claims !== undefined) parameters.claims = stepUp.claims;
  if (stepUp.acrValues !== undefined || stepUp.maxAge !== undefined) parameters.prompt = [...new Set(['login', ...(config.prompt?.split(' ') ?? [])])].join(' ');
  return parameters;
}

/** The user as the index keeps it: who it is, without a picture too large for a list (a data URL). */
function shownUser(user: UserProfile): UserProfile {
  const shown: UserProfile = { sub: user.sub };
  if (user.name !== undefined) shown.name = user.name;
  if (user.email !== undefined) shown.email = user.email;
  if (user.username !== undefined) shown.username = user.username;
  if (user.picture !== undefined && user.picture.length <= 2_048) shown.picture = user.picture;
  return shown;
}
