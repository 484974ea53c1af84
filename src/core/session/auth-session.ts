import type { ApiRequest, ApiRequestHeaders, AuthState } from '../../shared/auth-state.ts';
import type { StepUpRequest } from '../../shared/step-up.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { HttpClient } from '../net/http.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ProfileCache } from '../entry/profile-cache.ts';
import type { ProviderClient } from '../protocol/provider-client.ts';
import type { Opener } from '../protocol/flow-context.ts';
import type { SignOutResult } from './sign-out.ts';
import type { Keychain } from '../keychain/keychain.ts';
import type { Timers } from '../timers.ts';

// What a session offers its callers (the app's IPC handlers, the CLI) and what it is built from.
// `startAuthSession` in session.ts is the one implementation (`createAuthSession` resolves once it has started).

/** One signed-in user of one provider: the access token in memory, the refresh token in the keychain. */
export interface AuthSession {
  getState(): AuthState;
  /** Called on every state change; returns the unsubscribe function. */
  onStateChange(listener: (state: AuthState) => void): () => void;
  /**
   * Interactive sign-in: through the system browser, or with `method: 'device'` by a code the user enters on any
   * device (RFC 8628; the state's `deviceCode` says what to enter where). A new call cancels a pending one (`sign_in_cancelled`).
   */
  signIn(options?: SignInOptions): Promise<AuthState>;
  cancelSignIn(): void;
  /** Whether the provider offers sign-in with a code (a `device_authorization_endpoint`, RFC 8628 §4); false when it cannot be reached. */
  offersDeviceSignIn(): Promise<boolean>;
  /** Forgets everything local always, then revokes at the provider when it can; `notice` (also the state's error) says when it could not. */
  signOut(): Promise<SignOutResult>;
  /** A valid access token for the API named `api` (default: the first API), refreshed first when it is missing or about to expire. */
  getAccessToken(api?: string): Promise<string>;
  /** After an API answered 401 for `rejectedToken`: a newer token for the same API, with at most one refresh however many callers ask. */
  refreshAccessToken(rejectedToken: string): Promise<string>;
  /** The headers for one call to a configured API, with that API's token (the API is the URL's): a bound token with a fresh DPoP proof, or a bearer token (see request-headers.ts). */
  requestHeaders(request: ApiRequest): Promise<ApiRequestHeaders>;
  /** Reads the tokens other processes shared for every API after the first, without the network; resolves to the state, which shows them (`apiTokens`). */
  lookUpSharedTokens(): Promise<AuthState>;
  /** While offline: try to refresh now instead of waiting for the next backoff step (resume, network back); while the keychain is locked: look again. */
  retryNow(): Promise<void>;
  /** While the keychain is locked or refuses access: read the stored session again, letting the keychain prompt (`prompt`) or only looking (`check`). */
  retryKeychain(mode: 'prompt' | 'check'): Promise<AuthState>;
  /** Resolves once no refresh is running: a rotated refresh token is then in the keychain. */
  whenIdle(): Promise<void>;
  close(): Promise<void>;
}

export interface SignInOptions {
  /** 'browser' (default): the system browser and a loopback redirect; 'device': the device authorization grant. */
  method?: 'browser' | 'device';
  /** How long the user has to finish, in the browser or with a code (whose own lifetime bounds it too). */
  timeoutMs?: number;
  /**
   * True: the sign-in may come back as any user — it adds that user as an account, or renews the account that user
   * has — and asks the provider to let the person pick (its account chooser, see accounts/account-names.ts); the
   * session then acts for that account. False (default, while the session acts for an account): it renews this
   * session's account, hinting at it (`login_hint`), and a sign-in as anyone else is refused (`account_mismatch`).
   */
  adding?: boolean;
  /**
   * A stronger or more recent sign-in an API asked for (RFC 9470 `acr_values` / `max_age`, or an Entra claims
   * challenge's `claims`; see src/shared/step-up.ts): sent with the browser sign-in, which renews this session's
   * account — a sign-in as anyone else is refused and changes nothing.
   */
  stepUp?: StepUpRequest;
}

export interface AuthSessionDeps {
  config: AuthConfig;
  opener: Opener;
  /**
   * The account this session acts for, by name or `sub` (`--account`, LATCHKEY_ACCOUNT, the window's choice);
   * undefined: the default account as it is when the session starts — kept, whatever becomes the default later.
   * Starting rejects with `account_unknown` when no account has that name or `sub`.
   */
  account?: string;
  keychain?: Keychain;
  profileCache?: ProfileCache;
  provider?: ProviderClient;
  http?: HttpClient;
  clock?: () => number;
  logger?: Logger;
  timers?: Timers;
  random?: () => number;
  /** Where the cross-process lock lives (default `defaultLockDir()`: per user, whatever the data folder). */
  lockDir?: string;
  /** A sign-in or sign-out is waiting for another process to finish with the keychain entry. */
  onLockWait?: () => void;
  /** Called when the keychain waits on the user (an unlock prompt is open). */
  onKeychainWaiting?: () => void;
}
