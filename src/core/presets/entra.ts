import { STANDARD, type ProviderPreset } from './preset.ts';

/** Entra's tenant names that stand for many tenants: the issuer is then a template with `{tenantid}`. * Sign-in with a code (`login --device`): discovery publishes device_authorization_endpoint; it needs
 * "Allow public client flows" (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
 */
export const MULTI_TENANT_NAMES = ['common', 'organizations', 'consumers'];

/** `https://login.microsoftonline.com/{tenant}/v2.0`, the v2.0 issuer AUTH_TENANT names. */
export function entraIssuer(tenant: string): string {
  return `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/v2.0`;
}

/**
 * Microsoft Entra ID — learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 * (`offline_access`; `scope` on a refresh, AADSTS90009 without it), …/v2-protocols-oidc (the
 * `{tenantid}` issuer template of common/organizations/consumers; validate `tid`/`iss` yourself),
 * …/reply-url (loopback: the port is ignored; 127.0.0.1 added through the manifest),
 * …/refresh-tokens (no RFC 7009 revocation: revokeSignInSessions on Graph),
 * …/reference-error-codes (AADSTS numbers; AADSTS700025 when a public client sends a secret).
 */
export const entra: ProviderPreset = {
  ...STANDARD,
  name: 'entra',
  title: 'Microsoft Entra ID',
  defaultPrompt: undefined,
  // …/v2-oauth2-auth-code-flow#request-an-authorization-code: `prompt` takes one of login, none, consent, select_account; `login_hint` pre-fills the user.
  accountChooser: 'select_account',
  promptValues: 'one',
  secret: 'refused',
  scopeOnRefresh: true,
  // One resource's scopes per token request (AADSTS28000 when two are mixed); its refresh token serves every resource.
  apiTokens: { by: 'scope' },
  revocation: 'none',
  register: [
    'an app registration with the "Mobile and desktop applications" platform and "Allow public client flows" on',
    'the redirect URI http://127.0.0.1/callback (through the manifest; Entra ignores the port of a loopback URI)',
    'AUTH_TENANT: your tenant id, or common/organizations/consumers with AUTH_ALLOWED_TENANTS',
  ],
};
