import type { UserProfile } from '../../shared/auth-state.ts';
import type { HttpClient } from '../net/http.ts';
import type { ProviderPreset } from '../presets/preset.ts';

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
  if (typeof picture === 'string' && picture) profile.picture = picture;
  return profile;
}
