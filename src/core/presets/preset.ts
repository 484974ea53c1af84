import type { UserProfile } from '../../shared/auth-state.ts';

/** The names `AUTH_PROVIDER` / `"provider"` accepts. */
export const PRESET_NAMES = ['generic', 'auth0', 'entra', 'google', 'okta', 'keycloak', 'cognito', 'github'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Endpoints a provider without discovery is configured with (RFC 8414 field names). */
export interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint?: string;
  revocation_endpoint?: string;
  /** RFC 8628 §4: where `latchkey login --device` asks for a code; used only while the authorization and token endpoints are the preset's own. */
  device_authorization_endpoint?: string;
}

/**
 * How the provider gives an access token per API from the one refresh token: RFC 8707's `resource` (which it also
 * wants, every API's, in the authorization request, §2.1), Auth0's `audience`, the API's own scopes (Entra:
 * one resource's scopes per token request), or not at all — then `words` say, in the provider's terms, what to
 * configure instead, and several APIs are refused at start-up.
 */
export type ApiTokens = { by: 'resource' | 'audience' | 'scope' } | { by: 'none'; words: string };

/** How the client proves itself at the token endpoint when the provider issued it a secret (RFC 6749 §2.3.1). */
export type SecretAuth = 'client_secret_post' | 'client_secret_basic';

/**
 * A provider's documented habits, as data plus a few hooks — never a fork of
 * the sign-in flow (STYLE.md). Every field has the standards' answer in the
 * generic preset; a preset states only where its provider differs, and the
 * page that says so.
 */
export interface ProviderPreset {
  name: PresetName;
  /** The provider's name, for messages and doctor. */
  title: string;
  /** OpenID Connect Discovery at the issuer; false: OAuth 2.0 endpoints from `endpoints` or the AUTH_*_ENDPOINT settings, no ID token. */
  discovery: boolean;
  /** The issuer (the session's identity) when none is configured and the provider has one fixed address (GitHub). */
  defaultIssuer?: string;
  /** Where a provider without discovery has its endpoints; each AUTH_*_ENDPOINT setting overrides one. */
  endpoints?: Endpoints;
  /** Scopes requested when AUTH_SCOPE names none. */
  defaultScope: string;
  /** Scopes always added: `openid`, and `offline_access` where that scope is what brings a refresh token. */
  requiredScopes: string[];
  /** Scopes the provider refuses, with the reason (Google answers `offline_access` with invalid_scope). */
  refusedScopes?: Record<string, string>;
  /** Extra authorization request parameters (Google's `access_type=offline`). */
  authorizationParameters?: Record<string, string>;
  /** The `prompt` sent when AUTH_PROMPT is not set. */
  defaultPrompt?: string;
  /**
   * How a sign-in that adds an account asks the provider to let the person pick another user: its account chooser
   * (`select_account`) where it has one, else OpenID Connect Core's `login` (§3.1.2.1: sign in again).
   */
  accountChooser: 'select_account' | 'login';
  /** Whether `prompt` takes several space-separated values (OpenID Connect Core) or only one (Entra). */
  promptValues: 'many' | 'one';
  /** How a sign-in that renews one account hints at it: the parameter (`login_hint`; GitHub's `login`) and what it carries. */
  loginHint: { parameter: string; value: 'email' | 'username' };
  /** A client secret: refused (the provider rejects one from a public client), accepted (doctor warns) or required. */
  secret: 'refused' | 'accepted' | 'required';
  /** How a secret is sent when the discovery metadata does not say. */
  secretAuth: SecretAuth;
  /** The loopback redirect host the provider accepts, and whether it matches the port exactly (then a fixed port must be registered). */
  redirect: { host: '127.0.0.1' | 'localhost'; exactPort: boolean };
  /** Send the granted `scope` with every refresh (Entra: AADSTS90009 otherwise). */
  scopeOnRefresh?: boolean;
  /** How a token for each configured API is asked for (see `ApiTokens`). */
  apiTokens: ApiTokens;
  /** How the session is ended at the provider: RFC 7009, GitHub's DELETE with the app's credentials, or not at all. */
  revocation: 'rfc7009' | 'github' | 'none';
  /** The browser logout: RP-Initiated Logout, Cognito's `/logout?client_id&logout_uri`, or none. */
  logout: 'rp-initiated' | 'cognito' | 'none';
  /** 'maybe': some of the provider's apps issue no refresh token at all (GitHub OAuth Apps); such a sign-in is refused today (room for keeping a long-lived access token). */
  refreshTokens: 'issued' | 'maybe';
  /** What must be registered at the provider, one line each, for doctor and docs/providers.md. */
  register: string[];
  /**
   * The provider documents DPoP (RFC 9449) with ES256: under AUTH_DPOP=auto (and `required`) sign-ins bind their tokens
   * even when the metadata omits `dpop_signing_alg_values_supported` (see chooseTokenBinding in dpop.ts).
   */
  dpop?: boolean;
  /** The profile from a user endpoint that is not OpenID UserInfo (GitHub's `/user`). */
  profileFromUser?(user: Record<string, unknown>): UserProfile | undefined;
  /** Headers the user endpoint wants (GitHub's API version and a User-Agent). */
  userEndpointHeaders?: Record<string, string>;
}

/** The standards' answers, which each preset overrides only where its documentation differs. */
export const STANDARD: Omit<ProviderPreset, 'name' | 'title' | 'register'> = {
  discovery: true,
  defaultScope: 'openid profile email',
  requiredScopes: ['openid', 'offline_access'],
  defaultPrompt: 'consent',
  accountChooser: 'login',
  promptValues: 'many',
  loginHint: { parameter: 'login_hint', value: 'email' },
  secret: 'accepted',
  secretAuth: 'client_secret_basic',
  redirect: { host: '127.0.0.1', exactPort: false },
  apiTokens: { by: 'resource' },
  revocation: 'rfc7009',
  logout: 'rp-initiated',
  refreshTokens: 'issued',
};
