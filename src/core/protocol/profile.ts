import type { UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import type { Logger } from '../log.ts';

const PROFILE_CLAIMS = ['name', 'email', 'picture'] as const;

/** The profile Latchkey shows, from a set of OpenID claims (an ID token's or UserInfo's). */
export function profileFrom(claims: { sub: string } & Record<string, unknown>): UserProfile {
  const user: UserProfile = { sub: claims.sub };
  for (const key of PROFILE_CLAIMS) {
    const value = claims[key];
    if (typeof value === 'string' && value) user[key] = value;
  }
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
