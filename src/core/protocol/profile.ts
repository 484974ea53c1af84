import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { Logger } from '../../shared/logger.ts';
import type { HttpClient } from '../net/http.ts';
import type { ProviderPreset } from '../presets/preset.ts';
import * as oidc from 'openid-client';
import { AuthError } from '../errors.ts';
import { throwAs } from './answers.ts';
import type { ProviderConfiguration } from './configuration.ts';
import type { ProviderDpop } from './provider-dpop.ts';
import type { DpopKey } from '../dpop/key.ts';

const PROFILE_CLAIMS = ['name', 'email', 'picture'] as const;

/** The profile Latchkey shows, from a set of OpenID claims (an ID token's or UserInfo's). */
export function profileFrom(claims: { sub: string } & Record<string, unknown>): UserProfile {
  const user: UserProfile = { sub: claims.sub };
  for (const key of PROFILE_CLAIMS) {
    const value = claims[key];
    if (typeof value === 'string' && value) user[key] = value;
  }
  // OpenID Connect Core §5.1: the user's shorthand name, an account's name when there is no email.
  if (typeof claims.preferred_username === 'string' && claims.preferred_username) user.username = claims.preferred_username;
  return user;
}

/**
 * Whether the access token is one the UserInfo endpoint accepts. With no
 * `audience` or `resource` configured it is the provider's own token, made for
 * UserInfo (OpenID Connect Core §5.3). With one, the token is for that API
 * (RFC 8707) and UserInfo would refuse it — unless the token itself says it is
 * for both: Auth0 lists its `/userinfo` in a JWT access token's `aud` whenever
 * `openid` is requested. The token is only read for that list, never trusted.
 */
export function accessTokenIsForUserInfo(config: Pick<AuthConfig, 'audience' | 'resource'>, userinfoEndpoint: string, accessToken: string): boolean {
  if (config.audience === undefined && config.resource === undefined) return true;
  const audience = unverifiedAudience(accessToken);
  return audience.includes(userinfoEndpoint);
}

export interface UserInfoDeps {
  config: Pick<AuthConfig, 'audience' | 'resource'>;
  /** The provider's `userinfo_endpoint`, if it has one. */
  endpoint: string | undefined;
  /** GET UserInfo with the access token (openid-client's fetchUserInfo, without its subject check: this module checks and explains). */
  fetchClaims(accessToken: string): Promise<Record<string, unknown>>;
  logger?: Logger | undefined;
}

/**
 * The profile after sign-in: UserInfo's claims (OpenID Connect Core §5.3) over
 * the ID token's, when the provider has UserInfo and the access token is for
 * it. Providers following §5.4 put the scope's claims only there. UserInfo's
 * `sub` must equal the ID token's (§5.3.4), else its claims are ignored. Never
 * throws: without UserInfo the ID token's profile stands.
 */
export async function withUserInfo(user: UserProfile, accessToken: string, deps: UserInfoDeps): Promise<UserProfile> {
  const { endpoint, logger } = deps;
  if (!endpoint) return user;
  if (!accessTokenIsForUserInfo(deps.config, endpoint, accessToken)) {
    logger?.debug('UserInfo skipped: the access token is for another API', { audience: deps.config.audience ?? deps.config.resource });
    return user;
  }
  let claims: Record<string, unknown>;
  try {
    claims = await deps.fetchClaims(accessToken);
  } catch (error) {
    logger?.warn('UserInfo failed; the profile comes from the ID token only', { error: error instanceof Error ? error.message : String(error) });
    return user;
  }
  if (claims.sub !== user.sub) {
    logger?.warn('UserInfo names another subject than the ID token; its claims are ignored (OpenID Connect Core §5.3.4)', { idTokenSub: user.sub, userInfoSub: typeof claims.sub === 'string' ? claims.sub : null });
    return user;
  }
  return { ...user, ...profileFrom({ ...claims, sub: user.sub }) };
}

function unverifiedAudience(accessToken: string): string[] {
  const [, payload] = accessToken.split('.');
  if (!payload) return [];
  try {
    const { aud } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown };
    return Array.isArray(aud) ? aud.filter((value): value is string => typeof value === 'string') : typeof aud === 'string' ? [aud] : [];
  } catch {
    return [];
  }
}

/**
 * The profile of a provider without ID tokens, from its user endpoint (GitHub's
 * `GET /user`, a plain OAuth 2.0 provider's UserInfo-like endpoint), merged like
 * UserInfo: `sub` (or the account's `id`) names the user; `name` (or `login`),
 * `email` and `picture` (or `avatar_url`) are shown. Undefined when the
 * endpoint does not answer with a JSON object naming the user; throws on no answer.
 */
export async function fetchUserProfile(endpoint: string, accessToken: string, preset: Pick<ProviderPreset, 'profileFromUser' | 'userEndpointHeaders'>, http: Pick<HttpClient, 'fetch'>): Promise<UserProfile | undefined> {
  const response = await http.fetch(endpoint, { headers: { accept: 'application/json', ...preset.userEndpointHeaders, authorization: `Bearer ${accessToken}` } });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const user = body as Record<string, unknown>;
  return preset.profileFromUser ? preset.profileFromUser(user) : plainProfile(user);
}

function plainProfile(user: Record<string, unknown>): UserProfile | undefined {
  const id = user.sub ?? user.id;
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  const profile: UserProfile = { sub: String(id) };
  const name = user.name ?? user.login ?? user.preferred_username;
  const picture = user.picture ?? user.avatar_url;
  if (typeof name === 'string' && name) profile.name = name;
  if (typeof user.email === 'string' && user.email) profile.email = user.email;
  const username = user.preferred_username ?? user.login;
  if (typeof username === 'string' && username) profile.username = username;
  if (typeof picture === 'string' && picture) profile.picture = picture;
  return profile;
}

/**
 * Who signed in: with an ID token, its claims with UserInfo's over them
 * (`withUserInfo`); without one (GitHub, plain OAuth 2.0), the provider's user
 * endpoint, which must name the user.
 */
export async function profileAfterSignIn(
  tokens: { accessToken: string; user?: UserProfile | undefined },
  flow: { provider: ProviderConfiguration; config: Pick<AuthConfig, 'audience' | 'resource'>; http: Pick<HttpClient, 'fetch'>; dpop: ProviderDpop; logger?: Logger | undefined },
  key?: DpopKey,
): Promise<UserProfile | undefined> {
  const { provider, config, http, logger } = flow;
  const endpoint = typeof provider.metadata.userinfo_endpoint === 'string' ? provider.metadata.userinfo_endpoint : undefined;
  if (!provider.openid) {
    if (!endpoint) return undefined;
    const profile = await fetchUserProfile(endpoint, tokens.accessToken, provider.preset, http).catch(throwAs('sign-in'));
    if (!profile) throw new AuthError('provider_error', `The provider signed you in, but its user endpoint ${endpoint} did not say who you are. Check AUTH_USERINFO_ENDPOINT.`);
    return profile;
  }
  if (!tokens.user) return undefined;
  const fetchClaims = async (accessToken: string) => ({ ...(await oidc.fetchUserInfo(provider.configuration, accessToken, oidc.skipSubjectCheck, key ? { DPoP: await flow.dpop.handleFor(key) } : undefined)) });
  return withUserInfo(tokens.user, tokens.accessToken, { config, endpoint, fetchClaims, logger });
}
