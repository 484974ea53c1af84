import type { Setting } from './files.ts';
import { parseHttpUrl } from './values.ts';
import { entraIssuer, MULTI_TENANT_NAMES } from '../presets/entra.ts';
import { PRESETS } from '../presets/presets.ts';
import { PRESET_NAMES, type Endpoints, type PresetName, type ProviderPreset } from '../presets/preset.ts';

/** The settings that choose and shape the provider preset, read from the same sources as every other setting. */
/** The loopback names a redirect URI may use: the IP literal RFC 8252 §7.3 recommends, or `localhost` for providers that accept only that name (Cognito). */
export type RedirectHost = '127.0.0.1' | 'localhost';

export type ProviderSettingKey = 'provider' | 'clientSecret' | 'redirectHost' | 'tenant' | 'allowedTenants' | 'authorizationEndpoint' | 'tokenEndpoint' | 'userinfoEndpoint' | 'revocationEndpoint' | 'deviceAuthorizationEndpoint';

export const PROVIDER_ENV_NAMES: Record<ProviderSettingKey, string> = {
  provider: 'AUTH_PROVIDER',
  clientSecret: 'AUTH_CLIENT_SECRET',
  redirectHost: 'AUTH_REDIRECT_HOST',
  tenant: 'AUTH_TENANT',
  allowedTenants: 'AUTH_ALLOWED_TENANTS',
  authorizationEndpoint: 'AUTH_AUTHORIZATION_ENDPOINT',
  tokenEndpoint: 'AUTH_TOKEN_ENDPOINT',
  userinfoEndpoint: 'AUTH_USERINFO_ENDPOINT',
  revocationEndpoint: 'AUTH_REVOCATION_ENDPOINT',
  deviceAuthorizationEndpoint: 'AUTH_DEVICE_AUTHORIZATION_ENDPOINT',
};

const ENDPOINT_KEYS: Array<[ProviderSettingKey, keyof Endpoints]> = [
  ['authorizationEndpoint', 'authorization_endpoint'],
  ['tokenEndpoint', 'token_endpoint'],
  ['userinfoEndpoint', 'userinfo_endpoint'],
  ['revocationEndpoint', 'revocation_endpoint'],
  ['deviceAuthorizationEndpoint', 'device_authorization_endpoint'],
];

/** The setting that names each endpoint (AUTH_TOKEN_ENDPOINT for token_endpoint, …). */
export const ENDPOINT_ENV_NAMES = Object.fromEntries(ENDPOINT_KEYS.map(([key, field]) => [field, PROVIDER_ENV_NAMES[key]])) as Record<keyof Endpoints, string>;

export interface ProviderSettings {
  preset: ProviderPreset;
  clientSecret?: string;
  redirectHost: RedirectHost;
  /** Endpoints set one by one; with the authorization and token endpoints both set, there is no discovery. */
  endpoints: Partial<Endpoints>;
  /** The issuer the preset builds (Entra's tenant, GitHub's fixed one, a plain OAuth 2.0 provider's token endpoint origin), when none is set. */
  derivedIssuer?: string;
  /** Entra: the tenants a multi-tenant sign-in may come from; `['*']` = any. */
  allowedTenants?: string[];
}

/**
 * Reads the preset and the settings that go with it: AUTH_PROVIDER (default
 * generic, or auth0 when an Auth0 domain is configured), AUTH_CLIENT_SECRET as
 * the preset allows it, AUTH_REDIRECT_HOST, AUTH_TENANT and
 * AUTH_ALLOWED_TENANTS (Entra), and the AUTH_*_ENDPOINT overrides. Pushes one
 * line per problem.
 */
export function readProviderSettings(pick: (key: ProviderSettingKey) => Setting | undefined, problems: string[], options: { auth0: boolean; issuerSet: boolean }): ProviderSettings {
  const preset = PRESETS[readPresetName(pick('provider'), problems) ?? (options.auth0 ? 'auth0' : 'generic')];
  const settings: ProviderSettings = { preset, redirectHost: preset.redirect.host, endpoints: {} };

  const secret = pick('clientSecret');
  if (secret) {
    if (typeof secret.value !== 'string' || secret.value.trim() === '') problems.push(`${secret.label}: must be a non-empty string.`);
    else if (preset.secret === 'refused') problems.push(`${secret.label}: ${preset.title} refuses a client secret from a desktop (public) client; remove it and keep "Allow public client flows" on.`);
    else settings.clientSecret = secret.value.trim();
  } else if (preset.secret === 'required') {
    problems.push(`AUTH_CLIENT_SECRET: ${preset.title} requires the client secret it issues with a desktop app's client id, even with PKCE (it is not a secret in a desktop app, RFC 8252 §8.5, but the provider insists). Set AUTH_CLIENT_SECRET (or "clientSecret").`);
  }

  const host = pick('redirectHost');
  if (host) {
    if (host.value === '127.0.0.1' || host.value === 'localhost') settings.redirectHost = host.value;
    else problems.push(`${host.label}: "${String(host.value)}" is not a loopback name Latchkey redirects to. Use 127.0.0.1 (the default) or localhost.`);
  }

  for (const [key, field] of ENDPOINT_KEYS) {
    const setting = pick(key);
    if (!setting) continue;
    const url = parseHttpUrl(setting, problems, 'Use the https URL your provider documents for it.');
    if (url) settings.endpoints[field] = field === 'revocation_endpoint' ? url.replace(/%7Bclient_id%7D/gi, '{client_id}') : url;
  }
  const ownEndpoints = settings.endpoints.authorization_endpoint !== undefined && settings.endpoints.token_endpoint !== undefined;
  if (!preset.discovery || ownEndpoints) {
    const merged = { ...preset.endpoints, ...settings.endpoints };
    const moved = endpointsMoved(preset, settings.endpoints);
    if (!merged.authorization_endpoint || !merged.token_endpoint) {
      problems.push(`AUTH_TOKEN_ENDPOINT: ${preset.title} has no discovery; set AUTH_AUTHORIZATION_ENDPOINT and AUTH_TOKEN_ENDPOINT.`);
    } else if (moved && !ownEndpoints) {
      // One of the two on another host: the code would come from one server and be redeemed, with the app's secret, at another.
      problems.push(`AUTH_AUTHORIZATION_ENDPOINT / AUTH_TOKEN_ENDPOINT: only one of them points away from ${preset.title}'s own; set both (your server's authorization and token endpoints), or neither.`);
    } else if (!options.issuerSet) {
      // The README's rule: the preset's fixed issuer only while its own endpoints are used; moved endpoints name their server.
      settings.derivedIssuer = moved ? new URL('/', merged.token_endpoint).href : (preset.defaultIssuer ?? new URL('/', merged.token_endpoint).href);
    }
  } else if (settings.endpoints.authorization_endpoint || settings.endpoints.token_endpoint) {
    problems.push('AUTH_AUTHORIZATION_ENDPOINT / AUTH_TOKEN_ENDPOINT: set both to use a provider without discovery, or neither.');
  }

  readTenant(pick, problems, settings, options.issuerSet);
  if (!options.issuerSet && !settings.derivedIssuer && preset.defaultIssuer) settings.derivedIssuer = preset.defaultIssuer;
  return settings;
}

/** True when AUTH_AUTHORIZATION_ENDPOINT or AUTH_TOKEN_ENDPOINT names another endpoint than the preset's own. */
export function endpointsMoved(preset: ProviderPreset, endpoints: Partial<Endpoints>): boolean {
  const own: Partial<Endpoints> = preset.endpoints ?? {};
  return (['authorization_endpoint', 'token_endpoint'] as const).some((field) => endpoints[field] !== undefined && endpoints[field] !== own[field]);
}

/**
 * A preset without discovery sends the app's client id and secret to its own endpoints (GitHub's
 * github.com and api.github.com). An issuer elsewhere (a GitHub Enterprise Server) with those endpoints
 * left in place would send them to a host the configuration never named, so it is refused unless the
 * authorization and token endpoints are set too — which also drops the preset's other endpoints
 * (configuration.ts). Pushes the problem, naming the setting and the fix.
 */
export function checkIssuerAgainstEndpoints(issuer: { label: string; href: string }, settings: ProviderSettings, problems: string[]): void {
  const { preset, endpoints } = settings;
  if (preset.discovery || !preset.endpoints) return;
  if (endpoints.authorization_endpoint !== undefined && endpoints.token_endpoint !== undefined) return;
  const merged = { ...preset.endpoints, ...endpoints };
  const issuerOrigin = new URL(issuer.href).origin;
  const elsewhere = [merged.authorization_endpoint, merged.token_endpoint].map((url) => new URL(url).origin).filter((origin) => origin !== issuerOrigin);
  if (elsewhere.length === 0) return;
  const hosts = [...new Set([merged.authorization_endpoint, merged.token_endpoint, merged.userinfo_endpoint, merged.revocation_endpoint, merged.device_authorization_endpoint])]
    .filter((url): url is string => url !== undefined)
    .map((url) => new URL(url).host);
  const at = (url: string) => new URL(new URL(url).pathname, issuerOrigin).href;
  problems.push(
    `${issuer.label}: ${issuer.href} is not where the ${preset.name} preset's endpoints are (${[...new Set(hosts)].join(', ')}), so a sign-in would send your app's client id and secret there. ` +
      `For a server of your own (e.g. GitHub Enterprise Server) set AUTH_AUTHORIZATION_ENDPOINT and AUTH_TOKEN_ENDPOINT too (e.g. ${at(preset.endpoints.authorization_endpoint)} and ${at(preset.endpoints.token_endpoint)}), ` +
      `and AUTH_USERINFO_ENDPOINT, AUTH_REVOCATION_ENDPOINT and AUTH_DEVICE_AUTHORIZATION_ENDPOINT for those you use; or remove ${issuer.label} to use ${preset.title} itself.`,
  );
}

function readPresetName(setting: Setting | undefined, problems: string[]): PresetName | undefined {
  if (!setting) return undefined;
  const value = typeof setting.value === 'string' ? setting.value.trim().toLowerCase() : undefined;
  if (value && (PRESET_NAMES as readonly string[]).includes(value)) return value as PresetName;
  problems.push(`${setting.label}: "${String(setting.value)}" is not a provider preset. Use one of ${PRESET_NAMES.join(', ')}.`);
  return undefined;
}

/** Entra: AUTH_TENANT builds the issuer; a multi-tenant name needs AUTH_ALLOWED_TENANTS (tenant ids, or `*` for any). */
function readTenant(pick: (key: ProviderSettingKey) => Setting | undefined, problems: string[], settings: ProviderSettings, issuerSet: boolean): void {
  const tenant = pick('tenant');
  const allowed = pick('allowedTenants');
  if (settings.preset.name !== 'entra') {
    for (const setting of [tenant, allowed]) if (setting) problems.push(`${setting.label}: only the entra provider preset has tenants. Remove it, or set AUTH_PROVIDER=entra.`);
    return;
  }
  if (allowed) {
    const list: string[] = Array.isArray(allowed.value) ? allowed.value.map(String) : typeof allowed.value === 'string' ? allowed.value.split(',') : [];
    const ids = list.map((id) => id.trim()).filter(Boolean);
    if (ids.length === 0) problems.push(`${allowed.label}: must list tenant ids separated by commas, or be * to allow any tenant.`);
    else settings.allowedTenants = ids;
  }
  if (!tenant) {
    if (!issuerSet) problems.push('AUTH_TENANT: the entra preset needs your tenant id (or common, organizations or consumers), or AUTH_ISSUER.');
    return;
  }
  if (typeof tenant.value !== 'string' || !/^[\w.-]+$/.test(tenant.value.trim())) {
    problems.push(`${tenant.label}: "${String(tenant.value)}" is not a tenant id or domain.`);
    return;
  }
  if (!issuerSet) settings.derivedIssuer = entraIssuer(tenant.value.trim());
}

/** True for an Entra issuer that stands for many tenants (its path names common, organizations or consumers). */
export function isMultiTenantIssuer(issuer: string): boolean {
  return new URL(issuer).pathname.split('/').some((segment) => MULTI_TENANT_NAMES.includes(segment));
}
