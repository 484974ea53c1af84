import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_DEMO_API_PORT, DEFAULT_DEMO_IDP_PORT, DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../shared/constants.ts';
import { AuthError } from '../errors.ts';
import { LOG_LEVELS, parseLevel } from '../log.ts';
import { envValue, nonEmptyString, parseResource, isAuth0Host, auth0DomainToIssuer, buildScope, demoPort, parseCaFile, parseHttpUrl, parseIssuer, parseDpopMode, parseEmbeddedCertificates, parsePort, parsePrompt, type DpopMode } from './values.ts';
import { checkIssuerAgainstEndpoints, readProviderSettings, PROVIDER_ENV_NAMES, isMultiTenantIssuer, type RedirectHost } from './provider-settings.ts';
import type { Endpoints, PresetName } from '../presets/preset.ts';
import { checkApisForPreset, parseApis, SHORTHAND_API_NAME, type ApiConfig } from './apis.ts';

import { BUILD_CONFIG_FILE, EMBEDDED_CERTIFICATES_KEY, clientSecretProblem, parseExternalLinks, parseConfigObject, readConfigObject, type FileKey, type Setting, type ConfigObject } from './files.ts';

const DEFAULT_KEYCHAIN_SERVICE = 'dev.latchkey.desktop';
const APP_FOLDER = 'Latchkey';

export interface AuthConfig {
  /** The issuer identifier, normalized as a URL (`https://tenant.auth0.com/`). */
  issuer: string;
  clientId: string;
  /** Auth0's `audience` authorization parameter. */
  audience?: string;
  /** RFC 8707 resource indicator. */
  resource?: string;
  /** The provider preset (AUTH_PROVIDER): the provider's documented habits (src/core/providers/). */
  provider: PresetName;
  /**
   * A client secret the provider insists on (Google, GitHub). Not a secret in a
   * desktop app (RFC 8252 §8.5); never logged, never shown.
   */
  clientSecret?: string;
  /** Endpoints set one by one (AUTH_*_ENDPOINT): over the discovered ones, or instead of discovery. */
  endpoints?: Partial<Endpoints>;
  /** Entra multi-tenant: the tenant ids a sign-in may come from; `['*']` = any. */
  allowedTenants?: string[];
  /** Space-separated; `openid` and `offline_access` where the preset asks for them (not Google, Cognito, GitHub). */
  scope: string;
  /**
   * The authorization request's `prompt` (OpenID Connect Core §3.1.2.1);
   * undefined sends none. Default `consent`, which §11 requires with
   * `offline_access`, except for Auth0, which issues refresh tokens without it.
   */
  prompt?: string;
  /**
   * Sender-constrained tokens (RFC 9449): `auto` uses DPoP when the provider's metadata lists
   * `dpop_signing_alg_values_supported`; `required` refuses to sign in with a provider that does not; `off` never. Unset = `auto`.
   */
  dpop?: DpopMode;
  /** 0 = an ephemeral port picked per sign-in. */
  redirectPort: number;
  /** The redirect URI's host (AUTH_REDIRECT_HOST): 127.0.0.1, or localhost where the provider accepts only that; the listener binds loopback either way. */
  redirectHost: RedirectHost;
  /** The first API's base URL (the one the sign-in's access token is for); '' when a real provider is configured without one. */
  apiBaseUrl: string;
  /**
   * Every API the app calls, each with a token of its own from the one refresh token; the first is the one the
   * sign-in's token is for (`apiBaseUrl`, `audience`, `resource`). From `"apis"` in a config file, or the one-API
   * shorthand API_BASE_URL / AUTH_AUDIENCE / AUTH_RESOURCE; empty when no API is configured.
   */
  apis: ApiConfig[];
  /** Where the provider sends the browser after logout; only when registered for the client (RP-Initiated Logout 1.0 §3). */
  postLogoutRedirectUri?: string;
  /** The https pages the app's window may open in the system browser (the account page, the API's docs). */
  externalLinks?: string[];
  keychainService: string;
  dataDir: string;
  /** True when no issuer was configured and the bundled demo provider is used. */
  usesDemoProvider: boolean;
  /** A PEM bundle of extra root certificates to trust for the provider (AUTH_CA_FILE), e.g. a TLS-inspecting proxy's. Never set in a packaged app. */
  caFile?: string;
  /** The PEM text of the roots the build embedded from latchkey.config.json's `caFile` (read at build time). */
  caCertificates?: string;
  /** A packaged app: TLS trusts nothing the environment names (see `createTrustStore`). */
  packaged?: boolean;
  /** With the demo provider: the loopback ports its provider and API listen on (DEMO_IDP_PORT, DEMO_API_PORT). */
  demoPorts?: { idp: number; api: number };
  /** With the demo provider: its data folder (DEMO_DATA_DIR, else `<app data>/Latchkey/demo-provider`), whose secret proves a running demo is ours. */
  demoDataDir?: string;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** The data folder when AUTH_DATA_DIR does not name one (the app passes `app.getPath('userData')`). */
  dataDir?: string;
  /** The parsed `latchkey.config.json` the build embedded: the base layer in development, the only provider settings when packaged. */
  build?: unknown;
  /** A packaged app: the environment and the data folder's config.json are ignored, and there is no demo provider. */
  packaged?: boolean;
}

const ENV_NAMES: Record<Exclude<FileKey, 'externalLinks' | 'apis'>, string> = {
  issuer: 'AUTH_ISSUER',
  auth0Domain: 'AUTH0_DOMAIN',
  clientId: 'AUTH_CLIENT_ID',
  audience: 'AUTH_AUDIENCE',
  resource: 'AUTH_RESOURCE',
  scope: 'AUTH_SCOPE',
  prompt: 'AUTH_PROMPT',
  dpop: 'AUTH_DPOP',
  redirectPort: 'AUTH_REDIRECT_PORT',
  apiBaseUrl: 'API_BASE_URL',
  caFile: 'AUTH_CA_FILE',
  postLogoutRedirectUri: 'AUTH_POST_LOGOUT_REDIRECT_URI',
  ...PROVIDER_ENV_NAMES,
};

const SECRET_ENV_NAMES = ['AUTH0_CLIENT_SECRET'];

/** Where settings come from, highest precedence first: the environment, then the files (the data folder's, the build's). */
interface Sources {
  env: NodeJS.ProcessEnv;
  files: ConfigObject[];
}

/**
 * The OS folder for per-user application data plus `Latchkey` — the same folder
 * Electron's `app.getPath('userData')` resolves to for this app.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_FOLDER);
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), APP_FOLDER);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), APP_FOLDER);
}

/**
 * Reads the sign-in configuration: the environment first, then a JSON config
 * file (`AUTH_CONFIG`, else `<dataDir>/config.json` when present), then the
 * build's `latchkey.config.json`; with no issuer anywhere, the bundled demo
 * provider. A packaged app reads the build's settings only — a user-writable
 * file or variable must not re-point where its tokens go — and has no demo
 * provider. The provider preset (AUTH_PROVIDER, providers/provider-settings.ts)
 * shapes the rest. The app is a native client (RFC 8252 §8.5): a client secret
 * is taken only as AUTH_CLIENT_SECRET, where the preset allows one, and is never
 * shown; the issuer must use https unless it is on loopback (RFC 8252
 * §8.3 for the redirect, RFC 9700 §2.6 for transport). Throws
 * `AuthError('config_invalid')` listing every problem found, one line each.
 */
export function loadConfig(options: LoadConfigOptions = {}): AuthConfig {
  const packaged = options.packaged === true;
  const processEnv = options.env ?? process.env;
  const problems: string[] = [];

  const dataDirFromEnv = packaged ? undefined : envValue(processEnv, 'AUTH_DATA_DIR');
  const dataDir = resolve(dataDirFromEnv ?? options.dataDir ?? defaultDataDir(processEnv));
  const { [EMBEDDED_CERTIFICATES_KEY]: embeddedCertificates, ...buildSettings } = (isObject(options.build) ? options.build : {}) as Record<string, unknown>;
  const build = options.build === undefined ? undefined : parseConfigObject(isObject(options.build) ? buildSettings : options.build, BUILD_CONFIG_FILE, BUILD_CONFIG_FILE, problems);
  const file = packaged ? undefined : readConfigFile(processEnv, dataDir, problems);
  const env = packaged ? {} : processEnv;
  const sources: Sources = { env, files: [file, build].filter((source) => source !== undefined) };

  for (const name of SECRET_ENV_NAMES) {
    if (envValue(env, name) !== undefined) problems.push(clientSecretProblem(name));
  }
  const logLevel = envValue(processEnv, 'LATCHKEY_LOG_LEVEL');
  if (logLevel !== undefined && parseLevel(logLevel) === undefined) {
    problems.push(`LATCHKEY_LOG_LEVEL: "${logLevel}" is not a log level. Use one of ${LOG_LEVELS.join(', ')}, or unset it (default warn).`);
  }

  const pick = (key: FileKey): Setting | undefined => envSetting(env, key) ?? sources.files.map((source) => fileSetting(source, key)).find(Boolean);

  const givenIssuer = pickIssuer(sources, problems);
  const auth0 = givenIssuer !== undefined && (/auth0Domain|AUTH0_DOMAIN/.test(givenIssuer.label) || (typeof givenIssuer.value === 'string' && URL.canParse(givenIssuer.value) && isAuth0Host(new URL(givenIssuer.value).hostname)));
  const providerSettings = readProviderSettings(pick, problems, { auth0, issuerSet: givenIssuer !== undefined });
  const { preset } = providerSettings;
  const issuerSetting = givenIssuer ?? (providerSettings.derivedIssuer ? { value: providerSettings.derivedIssuer, label: `the ${preset.name} preset's issuer` } : undefined);
  const issuer = issuerSetting ? parseIssuer(issuerSetting, problems) : undefined;
  if (givenIssuer && issuer) checkIssuerAgainstEndpoints({ label: givenIssuer.label, href: issuer }, providerSettings, problems);
  const usesDemoProvider = issuerSetting === undefined && !packaged;
  if (usesDemoProvider && preset.name !== 'generic') problems.push(`AUTH_ISSUER: the ${preset.name} preset needs the issuer of your ${preset.title} tenant (or AUTH0_DOMAIN, AUTH_TENANT). Set it.`);
  if (preset.name === 'entra' && issuer && isMultiTenantIssuer(issuer) && !providerSettings.allowedTenants) {
    problems.push(
      `AUTH_ALLOWED_TENANTS: ${issuer} lets a user of any Microsoft tenant sign in. List the tenant ids allowed (comma-separated), or * to allow any tenant on purpose.`,
    );
  }
  if (issuerSetting === undefined && packaged) {
    problems.push(
      `${BUILD_CONFIG_FILE}: no sign-in provider is configured for this build, and a packaged app never uses the demo provider. ` +
        `Set "issuer" (or "auth0Domain") and "clientId" in ${BUILD_CONFIG_FILE} next to electron-builder.yml, then build again with npm run dist.`,
    );
  }

  const { clientId, audience, resource } = readClientSettings(pick, problems, { usesDemoProvider, issuerSetting, packaged });

  const scopeSetting = pick('scope');
  const scope = buildScope(scopeSetting, problems, preset);

  const promptSetting = pick('prompt');
  const prompt = promptSetting ? parsePrompt(promptSetting, problems) : preset.defaultPrompt;

  const dpopSetting = pick('dpop');
  const dpop = dpopSetting ? parseDpopMode(dpopSetting, problems) : 'auto';

  const portSetting = pick('redirectPort');
  const redirectPort = portSetting ? parsePort(portSetting, problems, 'Use 0 (the default) for an ephemeral port, or the port registered in the callback URL at your provider.') ?? 0 : 0;

  const demoPorts = usesDemoProvider
    ? { idp: demoPort(env, 'DEMO_IDP_PORT', DEFAULT_DEMO_IDP_PORT, problems), api: demoPort(env, 'DEMO_API_PORT', DEFAULT_DEMO_API_PORT, problems) }
    : undefined;
  const apiSetting = pick('apiBaseUrl');
  let apiBaseUrl = '';
  if (apiSetting) {
    apiBaseUrl = parseHttpUrl(apiSetting, problems, 'Use the https URL of your API.') ?? '';
  } else if (demoPorts) {
    apiBaseUrl = `http://127.0.0.1:${demoPorts.api}`;
  }
  const apisSetting = pick('apis');
  const listedApis = apisSetting ? parseApis(apisSetting, problems) : undefined;
  if (apisSetting && listedApis) {
    for (const shorthand of [apiSetting, pick('audience'), pick('resource')]) {
      if (shorthand) problems.push(`${shorthand.label}: conflicts with ${apisSetting.label}, which names every API. Give the API there, or remove "apis" to use the one-API settings.`);
    }
    checkApisForPreset(listedApis, preset, apisSetting.label, problems);
  }

  const caFileSetting = pick('caFile');
  if (caFileSetting && packaged) {
    problems.push(`${caFileSetting.label}: a packaged app never reads a certificate file at run time (a relative path would follow the folder it was started from). Build it with \`npm run dist\`, which embeds the file's certificates.`);
  }
  const caFile = caFileSetting && !packaged ? parseCaFile(caFileSetting, problems) : undefined;
  const caCertificates = embeddedCertificates === undefined ? undefined : parseEmbeddedCertificates(embeddedCertificates, BUILD_CONFIG_FILE, problems);
  const logoutSetting = pick('postLogoutRedirectUri');
  const postLogoutRedirectUri = logoutSetting ? parseHttpUrl(logoutSetting, problems, 'Use the post-logout redirect URI registered for the client at your provider, or remove the setting.') : undefined;
  const linksSetting = pick('externalLinks');
  const externalLinks = linksSetting ? parseExternalLinks(linksSetting, problems) : [];

  const demoIssuer = demoPorts ? new URL(`http://127.0.0.1:${demoPorts.idp}`).href : '';

  if (problems.length > 0) throw new AuthError('config_invalid', problems.join('\n'));

  const config: AuthConfig = {
    issuer: usesDemoProvider ? demoIssuer : (issuer as string),
    clientId: usesDemoProvider ? DEMO_CLIENT_ID : (clientId as string),
    provider: preset.name,
    scope,
    dpop,
    redirectPort,
    redirectHost: providerSettings.redirectHost,
    apiBaseUrl,
    apis: listedApis ?? (apiBaseUrl ? [shorthandApi(apiBaseUrl, usesDemoProvider ? DEMO_AUDIENCE : audience, resource)] : []),
    externalLinks,
    keychainService: envValue(env, 'AUTH_KEYCHAIN_SERVICE') ?? DEFAULT_KEYCHAIN_SERVICE,
    dataDir,
    usesDemoProvider,
  };
  const effectiveAudience = usesDemoProvider ? DEMO_AUDIENCE : audience;
  if (listedApis) {
    const [first] = listedApis as [ApiConfig];
    config.apiBaseUrl = first.baseUrl;
    if (first.audience !== undefined) config.audience = first.audience;
    if (first.resource !== undefined) config.resource = first.resource;
  } else {
    if (effectiveAudience !== undefined) config.audience = effectiveAudience;
    if (resource !== undefined) config.resource = resource;
  }
  if (prompt !== undefined) config.prompt = prompt;
  if (providerSettings.clientSecret !== undefined) config.clientSecret = providerSettings.clientSecret;
  if (Object.keys(providerSettings.endpoints).length > 0) config.endpoints = providerSettings.endpoints;
  if (providerSettings.allowedTenants) config.allowedTenants = providerSettings.allowedTenants;
  if (postLogoutRedirectUri !== undefined) config.postLogoutRedirectUri = postLogoutRedirectUri;
  if (demoPorts) {
    config.demoPorts = demoPorts;
    config.demoDataDir = resolve(envValue(env, 'DEMO_DATA_DIR') ?? join(defaultDataDir(env), 'demo-provider'));
  }
  if (caFile !== undefined) config.caFile = caFile;
  if (caCertificates !== undefined) config.caCertificates = caCertificates;
  if (packaged) config.packaged = true;
  return config;
}

/** The one API the shorthand settings describe. */
function shorthandApi(baseUrl: string, audience: string | undefined, resource: string | undefined): ApiConfig {
  return { name: SHORTHAND_API_NAME, baseUrl, ...(audience !== undefined ? { audience } : {}), ...(resource !== undefined ? { resource } : {}) };
}

/** What TLS to the provider trusts for `config`: the `TrustSettings` of tls.ts (see `createTrustStore`). */
export function trustSettingsOf(config: Pick<AuthConfig, 'caFile' | 'caCertificates' | 'packaged'>): { caFile: string | undefined; caCertificates: string | undefined; packaged: boolean | undefined } {
  return { caFile: config.caFile, caCertificates: config.caCertificates, packaged: config.packaged };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readConfigFile(env: NodeJS.ProcessEnv, dataDir: string, problems: string[]): ConfigObject | undefined {
  const explicit = envValue(env, 'AUTH_CONFIG');
  const path = explicit ? resolve(explicit) : join(dataDir, 'config.json');
  if (!explicit && !existsSync(path)) return undefined;
  return readConfigObject(path, explicit ? `AUTH_CONFIG (${path})` : `config file ${path}`, problems);
}

/** The issuer and the Auth0 domain are one setting; within a source, giving both differently is ambiguous. */
function pickIssuer(sources: Sources, problems: string[]): Setting | undefined {
  const pairs: Array<[Setting | undefined, Setting | undefined]> = [
    [envSetting(sources.env, 'issuer'), envSetting(sources.env, 'auth0Domain')],
    ...sources.files.map((file): [Setting | undefined, Setting | undefined] => [fileSetting(file, 'issuer'), fileSetting(file, 'auth0Domain')]),
  ];
  for (const [issuer, domain] of pairs) {
    if (!issuer && !domain) continue;
    if (issuer && domain) {
      const fromDomain = typeof domain.value === 'string' ? auth0DomainToIssuer(domain.value) : undefined;
      const normalized = typeof issuer.value === 'string' && URL.canParse(issuer.value) ? new URL(issuer.value).href : undefined;
      if (fromDomain === undefined || normalized !== fromDomain) {
        problems.push(`${issuer.label}: conflicts with ${domain.label}. Set only one of them.`);
      }
      return issuer;
    }
    if (domain) {
      const converted = typeof domain.value === 'string' ? auth0DomainToIssuer(domain.value) : undefined;
      if (converted === undefined) {
        problems.push(`${domain.label}: "${String(domain.value)}" is not a domain name. Use your tenant's domain, e.g. your-tenant.eu.auth0.com (no path).`);
        return { value: undefined, label: domain.label };
      }
      return { value: converted, label: domain.label };
    }
    return issuer;
  }
  return undefined;
}

function envSetting(env: NodeJS.ProcessEnv, key: FileKey): Setting | undefined {
  const name = key === 'externalLinks' || key === 'apis' ? undefined : ENV_NAMES[key];
  const value = name === undefined ? undefined : envValue(env, name);
  return name === undefined || value === undefined ? undefined : { value, label: name };
}

function fileSetting(file: ConfigObject, key: FileKey): Setting | undefined {
  return file.values[key] !== undefined ? { value: file.values[key], label: `"${key}" in ${file.path}` } : undefined;
}

/**
 * The client's identity at the provider: its client id, and Auth0's `audience`
 * or RFC 8707's `resource`. With no issuer configured the demo provider is
 * used, and any of these set is a mistake worth naming; with an issuer, the
 * client id is required. Problems are added to `problems`, one line each.
 */
export function readClientSettings(
  pick: (key: FileKey) => Setting | undefined,
  problems: string[],
  { usesDemoProvider, issuerSetting, packaged }: { usesDemoProvider: boolean; issuerSetting: Setting | undefined; packaged: boolean },
): { clientId: string | undefined; audience: string | undefined; resource: string | undefined } {
  const clientIdSetting = pick('clientId');
  const audienceSetting = pick('audience');
  const resourceSetting = pick('resource');
  const clientId = clientIdSetting ? nonEmptyString(clientIdSetting, problems) : undefined;
  const audience = audienceSetting ? nonEmptyString(audienceSetting, problems) : undefined;
  const resource = resourceSetting ? parseResource(resourceSetting, problems) : undefined;

  if (usesDemoProvider) {
    for (const setting of [clientIdSetting, audienceSetting, resourceSetting, pick('clientSecret')]) {
      if (setting) {
        problems.push(
          `${setting.label}: is set but no issuer is configured, so the demo provider would be used with it. ` +
            'Set AUTH_ISSUER (or AUTH0_DOMAIN) for your provider, or remove this setting to use the demo provider.',
        );
      }
    }
  } else if (issuerSetting && clientIdSetting === undefined) {
    const where = packaged ? `"clientId" in ${BUILD_CONFIG_FILE}` : 'AUTH_CLIENT_ID (or "clientId" in the config file)';
    problems.push(
      `${packaged ? BUILD_CONFIG_FILE : 'AUTH_CLIENT_ID'}: missing client id; an issuer is configured (${issuerSetting.label}) but no client id. ` +
        `Set ${where} to the client id of the native/public application registered at your provider.`,
    );
  }
  return { clientId, audience, resource };
}
