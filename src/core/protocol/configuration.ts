import * as oidc from 'openid-client';
import { type AuthConfig } from '../config/auth-config.ts';
import { isLoopbackHost } from '../config/values.ts';
import { AuthError } from '../errors.ts';
import { PRESETS } from '../presets/presets.ts';
import { type Endpoints, type ProviderPreset, type SecretAuth } from '../presets/preset.ts';
import { ENDPOINT_ENV_NAMES, endpointsMoved, isMultiTenantIssuer } from '../config/provider-settings.ts';

/** What the sign-in flow needs from the provider: openid-client's configuration, its metadata, and the habits it came with. */
export interface ProviderConfiguration {
  configuration: oidc.Configuration;
  metadata: Record<string, unknown>;
  preset: ProviderPreset;
  /** False for a provider without discovery (GitHub, a plain OAuth 2.0 provider): no ID token, profile from the user endpoint. */
  openid: boolean;
  /** Entra common/organizations/consumers: the discovered issuer is a `{tenantid}` template. */
  tenantTemplate?: string;
  /** A configuration like this one, for other metadata (Entra: the issuer with the user's tenant). */
  withMetadata(metadata: Record<string, unknown>, fetch: oidc.CustomFetch): oidc.Configuration;
}

export interface ConfigurationOptions {
  fetch: oidc.CustomFetch;
  /** Plain http is allowed: the issuer is on loopback (the endpoints are checked by the caller). */
  insecure: boolean;
}

/**
 * openid-client's configuration for the configured provider and preset:
 * discovered (OpenID Connect Discovery 1.0 / RFC 8414) where the provider has
 * discovery, with each AUTH_*_ENDPOINT setting over the discovered one; built
 * from the endpoints alone where it has none (GitHub, plain OAuth 2.0). A
 * client secret, where the provider insists on one, goes as the metadata or
 * the preset says (RFC 6749 §2.3.1: basic or post); otherwise the client is
 * public (`none`). Entra's multi-tenant issuer template is kept as discovered,
 * for the tenant check (entra-tenant.ts). Throws what openid-client throws.
 */
export async function loadProviderConfiguration(config: AuthConfig, options: ConfigurationOptions): Promise<ProviderConfiguration> {
  const preset = PRESETS[config.provider];
  const overrides = config.endpoints ?? {};
  // Plain http on loopback is allowed where the configuration named it: the issuer, or an AUTH_*_ENDPOINT setting (already checked to be loopback).
  const namedHttp = Object.values(overrides).some((url) => url !== undefined && new URL(url).protocol === 'http:');
  const execute = options.insecure || namedHttp ? [oidc.allowInsecureRequests] : [];
  const ownEndpoints = !preset.discovery || (overrides.authorization_endpoint !== undefined && overrides.token_endpoint !== undefined);

  let discovered: Record<string, unknown>;
  if (ownEndpoints) {
    discovered = { issuer: config.issuer.replace(/\/$/, ''), ...presetEndpoints(preset, overrides) };
  } else if (preset.name === 'entra') {
    discovered = await discoverEntra(config, options, execute);
  } else {
    const found = await oidc.discovery(new URL(config.issuer), config.clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), { [oidc.customFetch]: options.fetch, execute });
    discovered = found.serverMetadata() as unknown as Record<string, unknown>;
  }
  const metadata: Record<string, unknown> = { ...discovered, ...overrides };
  assertEndpointsStayLocal(config, metadata, options.insecure);
  const method = config.clientSecret === undefined ? 'none' : secretMethod(preset.secretAuth, metadata.token_endpoint_auth_methods_supported);

  const withMetadata = (serverMetadata: Record<string, unknown>, fetch: oidc.CustomFetch): oidc.Configuration => {
    const configuration = new oidc.Configuration(serverMetadata as unknown as oidc.ServerMetadata, config.clientId, { token_endpoint_auth_method: method }, clientAuthentication(method, config.clientSecret));
    configuration[oidc.customFetch] = fetch;
    for (const extension of execute) extension(configuration);
    // ID token signatures are checked against the provider's JWKS, not only trusted because they came over TLS.
    if (!ownEndpoints) oidc.enableNonRepudiationChecks(configuration);
    return configuration;
  };
  const issuer = String(metadata.issuer);
  return {
    configuration: withMetadata(metadata, options.fetch),
    metadata,
    preset,
    openid: !ownEndpoints,
    ...(preset.name === 'entra' && issuer.includes('{tenantid}') ? { tenantTemplate: issuer } : {}),
    withMetadata,
  };
}

/**
 * A provider without discovery's endpoints from its preset. The preset's other
 * endpoints (GitHub's user, revocation and device endpoints) belong to its own
 * authorization and token endpoints: where AUTH_AUTHORIZATION_ENDPOINT /
 * AUTH_TOKEN_ENDPOINT point elsewhere (GitHub Enterprise Server, a stand-in),
 * they are left out, so an access token is never sent to a host the user did
 * not name; AUTH_USERINFO_ENDPOINT, AUTH_REVOCATION_ENDPOINT and
 * AUTH_DEVICE_AUTHORIZATION_ENDPOINT name them there.
 */
function presetEndpoints(preset: ProviderPreset, overrides: Partial<Endpoints>): Partial<Endpoints> {
  const all: Partial<Endpoints> = preset.endpoints ?? {};
  if (!endpointsMoved(preset, overrides)) return all;
  const { authorization_endpoint, token_endpoint } = all;
  return { ...(authorization_endpoint ? { authorization_endpoint } : {}), ...(token_endpoint ? { token_endpoint } : {}) };
}

/**
 * Entra's discovery document, read at its `.well-known` address so the issuer
 * can be checked here: a tenant named by domain, or common/organizations/consumers,
 * publishes another issuer than the address asked (the tenant's id, or the
 * `{tenantid}` template), on the same host. openid-client knows this only for
 * login.microsoftonline.com itself; this also serves a sovereign cloud or a stand-in.
 */
async function discoverEntra(config: AuthConfig, options: ConfigurationOptions, execute: Array<(configuration: oidc.Configuration) => void>): Promise<Record<string, unknown>> {
  const wellKnown = new URL(`${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const found = await oidc.discovery(wellKnown, config.clientId, { token_endpoint_auth_method: 'none' }, oidc.None(), { [oidc.customFetch]: options.fetch, execute });
  const metadata = found.serverMetadata() as unknown as Record<string, unknown>;
  const published = new URL(String(metadata.issuer));
  const configured = new URL(config.issuer);
  const template = isMultiTenantIssuer(config.issuer);
  if (published.origin !== configured.origin || (template && !published.pathname.includes('%7Btenantid%7D'))) {
    throw new Error(`discovered metadata issuer ${String(metadata.issuer)} does not match the expected issuer ${config.issuer}`);
  }
  return metadata;
}

/** The token endpoint auth method: the preset's, unless the provider lists only the other one. */
function secretMethod(preferred: SecretAuth, supported: unknown): SecretAuth {
  if (!Array.isArray(supported) || supported.includes(preferred)) return preferred;
  const other: SecretAuth = preferred === 'client_secret_post' ? 'client_secret_basic' : 'client_secret_post';
  return supported.includes(other) ? other : preferred;
}

function clientAuthentication(method: SecretAuth | 'none', secret: string | undefined): oidc.ClientAuth {
  if (method === 'none' || secret === undefined) return oidc.None();
  return method === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
}

const METADATA_URL_FIELDS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'revocation_endpoint', 'end_session_endpoint', 'userinfo_endpoint', 'device_authorization_endpoint'];

/**
 * The rule for every endpoint: https, or plain http on loopback only — and then only where the
 * configuration named it (a loopback issuer, or the AUTH_*_ENDPOINT setting itself), so a remote
 * provider's metadata cannot point the client at a local port. Said here with the rule and what to fix,
 * rather than as openid-client's bare "only requests to HTTPS are allowed" at the first request.
 */
function assertEndpointsStayLocal(config: AuthConfig, metadata: Record<string, unknown>, issuerOnLoopback: boolean): void {
  for (const field of METADATA_URL_FIELDS) {
    const value = metadata[field];
    if (typeof value !== 'string' || !URL.canParse(value)) continue;
    const url = new URL(value);
    if (url.protocol !== 'http:') continue;
    if (!isLoopbackHost(url.hostname)) {
      throw new AuthError(
        'provider_unreachable',
        `The provider at ${config.issuer} advertises ${field} ${value} over plain http on another machine; tokens would cross the network unencrypted. Fix the provider's configuration to use https.`,
      );
    }
    if (!issuerOnLoopback && config.endpoints?.[field as keyof Endpoints] !== value) {
      const setting = ENDPOINT_ENV_NAMES[field as keyof Endpoints] as string | undefined;
      throw new AuthError(
        'config_invalid',
        `The provider at ${config.issuer} advertises ${field} ${value} over plain http. An endpoint must use https, or http on this machine (127.0.0.1, [::1], localhost) only where the configuration names it: an issuer on loopback (AUTH_ISSUER)${setting ? ` or ${setting}` : ''}. Set ${setting ?? 'AUTH_ISSUER'} accordingly, or fix the provider's metadata to use https.`,
      );
    }
  }
}
