// The domain model every side shares: who is signed in, how, and where the refresh token lives.
// The core produces it, the shell sends it over IPC (src/shared/ipc.ts), the page and the CLI show it.
// Types only.
import type { ErrorInfo } from './errors.ts';

/** `starting`: the app is still opening the stored session (reading the keychain); only the shell reports it. */
export type AuthStatus = 'starting' | 'signed-out' | 'signing-in' | 'signed-in' | 'offline';

export interface UserProfile {
  sub: string;
  name?: string;
  email?: string;
  /** The user's username at the provider (`preferred_username`; GitHub's `login`), when it gives one: an account's name without an email. */
  username?: string;
  picture?: string;
}

/** What a session stands on: a refresh token (RFC 6749 §6), or a long-lived access token kept until it is refused (a GitHub OAuth App, which issues no refresh token). */
export type StandsOn = 'refresh_token' | 'access_token';

/**
 * Where the refresh token lives: the OS keychain, memory only (lost on restart), a `latchkey agent`
 * (its memory, or the encrypted file it keeps), a plaintext file a person named, or the OS keychain
 * while it is locked (`locked`) or refuses access (`refused`) — a stored session out of reach, not a signed-out user.
 */
export type KeychainPlace = 'os' | 'memory-only' | 'agent' | 'plaintext-file' | 'locked' | 'refused';

export interface AuthState {
  status: AuthStatus;
  /** The name of the account this session acts for (see docs/command-line.md#accounts); undefined while no account is signed in. */
  account?: string;
  user?: UserProfile;
  error?: ErrorInfo;
  keychain?: KeychainPlace;
  /** While starting: the keychain is waiting on the user (an unlock prompt is open). */
  keychainWaiting?: true;
  /** When the current access token was obtained and when it expires (epoch ms), and `dpop` when it is bound to this installation's key (RFC 9449). Never the token itself. */
  accessToken?: AccessTokenTimes;
  /** The same, for each API after the first that has a token in memory, by API name. */
  apiTokens?: Record<string, AccessTokenTimes>;
  standsOn?: StandsOn;
  /** While a sign-in with a code is waiting for the user: what to enter where (RFC 8628 §3.3). */
  deviceCode?: DeviceCodePrompt;
  /** Every account signed in at the provider (the app's state events carry them; the window's own is `account`). */
  accounts?: AccountSummary[];
}

/** One account as the window lists it: its name, who it is, and whether it is the default for new windows and commands. */
export interface AccountSummary {
  name: string;
  sub: string;
  user: UserProfile;
  default: boolean;
}

/**
 * What the state shows of an access token, never the token: when it was obtained and expires (epoch ms), `dpop` when
 * bound to this installation's key (RFC 9449), and how and when the user signed in for it (`acr`, `authTime` in
 * epoch seconds), when the provider said.
 */
export interface AccessTokenTimes {
  refreshedAt: number;
  expiresAt?: number;
  dpop?: true;
  acr?: string;
  authTime?: number;
}

/**
 * A device sign-in's codes (RFC 8628 §3.2): the user opens `verificationUri`
 * on any device and enters `userCode` (or opens `verificationUriComplete`,
 * which carries it) before `expiresAt` (epoch ms). `issuer` and `clientId` say
 * which provider and which app asked, so a phished code can be recognised.
 */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  /** The site `verificationUri` is on (its host, IDNs as punycode), shown apart from the path so a person checks it is the provider's. */
  verificationHost: string;
  verificationUriComplete?: string;
  expiresAt: number;
  issuer: string;
  clientId: string;
}

/** One API call the caller is about to make: its method and full URL; `nonce` when the API's 401 asked for one (RFC 9449 §9). */
export interface ApiRequest {
  method: string;
  url: string;
  nonce?: string;
}

/** The headers that call needs: `Authorization` (`Bearer …` or `DPoP …`) and, for a bound token, the `DPoP` proof. */
export interface ApiRequestHeaders {
  Authorization: string;
  DPoP?: string;
}
