import { STANDARD, type ProviderPreset } from './preset.ts';

/**
 * Any OpenID provider that follows the standards (OpenID Connect Core §11:
 * `offline_access` with `prompt=consent` brings a refresh token; RFC 8252 for
 * the native app; RFC 7009 revocation), or any plain OAuth 2.0 provider
 * configured by its endpoints instead of discovery.
 */
export const generic: ProviderPreset = {
  ...STANDARD,
  name: 'generic',
  title: 'OpenID provider',
  register: ['a native/public client (token endpoint auth method "none") with the authorization_code and refresh_token grants', 'the redirect URI below'],
};
