import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_DEMO_API_PORT, DEFAULT_DEMO_IDP_PORT, DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../shared/constants.ts';
import { AuthError } from './errors.ts';
import { LOG_LEVELS, parseLevel } from './log.ts';
import { BUILD_SETTINGS_FILE, clientSecretProblem, parseExternalLinks, parseSettingsObject, readSettingsFile, type FileKey, type Setting, type SettingsObject } from './settings-file.ts';

const DEFAULT_SCOPE = 'openid profile email';
const ALWAYS_REQUESTED_SCOPES = ['openid', 'offline_access'];
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
  /** Space-separated; always includes `openid` and `offline_access`. */
  scope: string;
  /**
   * The authorization request's `prompt` (OpenID Connect Core §3.1.2.1);
   * undefined sends none. Default `consent`, which §11 requires with
   * `offline_access`, except for Auth0, which issues refresh tokens without it.
   */
  prompt?: string;
  /** 0 = an ephemeral port picked per sign-in. */
  redirectPort: number;
  /** The API the access token is for; '' when a real provider is configured without one. */
  apiBaseUrl: string;
  /** Where the provider sends the browser after logout; only when registered for the client (RP-Initiated Logout 1.0 §3). */
  postLogoutRedirectUri?: string;
  /** The https pages the app's window may open in the system browser (the account page, the API's docs). */
  externalLinks?: string[];
  keychainService: string;
  dataDir: string;
  /** True when no issuer was configured and the bundled demo provider is used. */
  usesDemoProvider: boolean;
  /** A PEM bundle of extra root certificates to trust for the provider (AUTH_CA_FILE), e.g. a TLS-inspecting proxy's. */
  caFile?: string;
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

const ENV_NAMES: Record<Exclude<FileKey, 'externalLinks'>, string> = {
  issuer: 'AUTH_ISSUER',
  auth0Domain: 'AUTH0_DOMAIN',
  clientId: 'AUTH_CLIENT_ID',
  audience: 'AUTH_AUDIENCE',
  resource: 'AUTH_RESOURCE',
  scope: 'AUTH_SCOPE',
  prompt: 'AUTH_PROMPT',
  redirectPort: 'AUTH_REDIRECT_PORT',
  apiBaseUrl: 'API_BASE_URL',
  caFile: 'AUTH_CA_FILE',
  postLogoutRedirectUri: 'AUTH_POST_LOGOUT_REDIRECT_URI',
};

const SECRET_ENV_NAMES = ['AUTH_CLIENT_SECRET', 'AUTH0_CLIENT_SECRET'];

/** Where settings come from, highest precedence first: the environment, then the files (the data folder's, the build's). */
interface Sources {
  env: NodeJS.ProcessEnv;
  files: SettingsObject[];
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
 * provider. The app is a public native client (RFC 8252 §8.5): a client secret
 * is refused, and the issuer must use https unless it is on loopback (RFC 8252
 * §8.3 for the redirect, RFC 9700 §2.6 for transport). Throws
 * `AuthError('config_invalid')` listing every problem found, one line each.
 */
export function loadConfig(options: LoadConfigOptions = {}): AuthConfig {
  const packaged = options.packaged === true;
  const processEnv = options.env ?? process.env;
  const problems: string[] = [];

  const dataDirFromEnv = packaged ? undefined : envValue(processEnv, 'AUTH_DATA_DIR');
  const dataDir = resolve(dataDirFromEnv ?? options.dataDir ?? defaultDataDir(processEnv));
  const build = options.build === undefined ? undefined : parseSettingsObject(options.build, BUILD_SETTINGS_FILE, BUILD_SETTINGS_FILE, problems);
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

  const issuerSetting = pickIssuer(sources, problems);
  const issuer = issuerSetting ? parseIssuer(issuerSetting, problems) : undefined;
  const usesDemoProvider = issuerSetting === undefined && !packaged;
  if (issuerSetting === undefined && packaged) {
    problems.push(
      `${BUILD_SETTINGS_FILE}: no sign-in provider is configured for this build, and a packaged app never uses the demo provider. ` +
        `Set "issuer" (or "auth0Domain") and "clientId" in ${BUILD_SETTINGS_FILE} next to electron-builder.yml, then build again with npm run dist.`,
    );
  }

  const clientIdSetting = pick('clientId');
  const audienceSetting = pick('audience');
  const resourceSetting = pick('resource');
  const clientId = clientIdSetting ? nonEmptyString(clientIdSetting, problems) : undefined;
  const audience = audienceSetting ? nonEmptyString(audienceSetting, problems) : undefined;
  const resource = resourceSetting ? parseResource(resourceSetting, problems) : undefined;

  if (usesDemoProvider) {
    for (const setting of [clientIdSetting, audienceSetting, resourceSetting]) {
      if (setting) {
        problems.push(
          `${setting.label}: is set but no issuer is configured, so the demo provider would be used with it. ` +
            'Set AUTH_ISSUER (or AUTH0_DOMAIN) for your provider, or remove this setting to use the demo provider.',
        );
      }
    }
  } else if (issuerSetting && clientIdSetting === undefined) {
    const where = packaged ? `"clientId" in ${BUILD_SETTINGS_FILE}` : 'AUTH_CLIENT_ID (or "clientId" in the config file)';
    problems.push(
      `${packaged ? BUILD_SETTINGS_FILE : 'AUTH_CLIENT_ID'}: missing client id; an issuer is configured (${issuerSetting.label}) but no client id. ` +
        `Set ${where} to the client id of the native/public application registered at your provider.`,
    );
  }

  const scopeSetting = pick('scope');
  const scope = buildScope(scopeSetting, problems);

  const auth0 = issuerSetting !== undefined && (/auth0Domain|AUTH0_DOMAIN/.test(issuerSetting.label) || (issuer !== undefined && isAuth0Host(new URL(issuer).hostname)));
  const promptSetting = pick('prompt');
  const prompt = promptSetting ? parsePrompt(promptSetting, problems) : auth0 ? undefined : 'consent';

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

  const caFileSetting = pick('caFile');
  const caFile = caFileSetting ? parseCaFile(caFileSetting, problems) : undefined;
  const logoutSetting = pick('postLogoutRedirectUri');
  const postLogoutRedirectUri = logoutSetting ? parseHttpUrl(logoutSetting, problems, 'Use the post-logout redirect URI registered for the client at your provider, or remove the setting.') : undefined;
  const linksSetting = pick('externalLinks');
  const externalLinks = linksSetting ? parseExternalLinks(linksSetting, problems) : [];

  const demoIssuer = demoPorts ? new URL(`http://127.0.0.1:${demoPorts.idp}`).href : '';

  if (problems.length > 0) throw new AuthError('config_invalid', problems.join('\n'));

  const config: AuthConfig = {
    issuer: usesDemoProvider ? demoIssuer : (issuer as string),
    clientId: usesDemoProvider ? DEMO_CLIENT_ID : (clientId as string),
    scope,
    redirectPort,
    apiBaseUrl,
    externalLinks,
    keychainService: envValue(env, 'AUTH_KEYCHAIN_SERVICE') ?? DEFAULT_KEYCHAIN_SERVICE,
    dataDir,
    usesDemoProvider,
  };
  const effectiveAudience = usesDemoProvider ? DEMO_AUDIENCE : audience;
  if (effectiveAudience !== undefined) config.audience = effectiveAudience;
  if (resource !== undefined) config.resource = resource;
  if (prompt !== undefined) config.prompt = prompt;
  if (postLogoutRedirectUri !== undefined) config.postLogoutRedirectUri = postLogoutRedirectUri;
  if (demoPorts) {
    config.demoPorts = demoPorts;
    config.demoDataDir = resolve(envValue(env, 'DEMO_DATA_DIR') ?? join(defaultDataDir(env), 'demo-provider'));
  }
  if (caFile !== undefined) config.caFile = caFile;
  return config;
}

/** True for hosts that never leave the machine: 127.0.0.0/8, [::1] and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Auth0's own tenant domains; a custom domain is recognised only when it was given as AUTH0_DOMAIN. */
export function isAuth0Host(hostname: string): boolean {
  return /(^|\.)auth0\.com$/i.test(hostname);
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function readConfigFile(env: NodeJS.ProcessEnv, dataDir: string, problems: string[]): SettingsObject | undefined {
  const explicit = envValue(env, 'AUTH_CONFIG');
  const path = explicit ? resolve(explicit) : join(dataDir, 'config.json');
  if (!explicit && !existsSync(path)) return undefined;
  return readSettingsFile(path, explicit ? `AUTH_CONFIG (${path})` : `config file ${path}`, problems);
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
  const name = key === 'externalLinks' ? undefined : ENV_NAMES[key];
  const value = name === undefined ? undefined : envValue(env, name);
  return name === undefined || value === undefined ? undefined : { value, label: name };
}

function fileSetting(file: SettingsObject, key: FileKey): Setting | undefined {
  return file.values[key] !== undefined ? { value: file.values[key], label: `"${key}" in ${file.path}` } : undefined;
}

/** `tenant.auth0.com` (or `https://tenant.auth0.com/`) → `https://tenant.auth0.com/`. */
function auth0DomainToIssuer(domain: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`;
  if (!URL.canParse(withScheme)) return undefined;
  const url = new URL(withScheme);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return undefined;
  return url.href;
}

function parseIssuer(setting: Setting, problems: string[]): string | undefined {
  if (setting.value === undefined) return undefined;
  const fix = 'Use the issuer URL your provider publishes, e.g. https://your-tenant.auth0.com/ (its /.well-known/openid-configuration must be reachable).';
  const href = parseHttpUrl(setting, problems, fix);
  if (href === undefined) return undefined;
  const url = new URL(href);
  if (url.search || url.hash) {
    problems.push(`${setting.label}: an issuer cannot have a query or fragment (OpenID Connect Discovery §3). ${fix}`);
    return undefined;
  }
  return href;
}

/** An absolute http(s) URL; plain http only for loopback hosts. */
function parseHttpUrl(setting: Setting, problems: string[], fix: string): string | undefined {
  if (typeof setting.value !== 'string' || !URL.canParse(setting.value)) {
    problems.push(`${setting.label}: "${String(setting.value)}" is not an absolute URL. ${fix}`);
    return undefined;
  }
  const url = new URL(setting.value);
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url.href;
    problems.push(`${setting.label}: plain http is only allowed on this machine (127.0.0.1, [::1], localhost); tokens must not cross the network unencrypted. Use an https URL.`);
    return undefined;
  }
  problems.push(`${setting.label}: "${url.protocol}" is not http(s). ${fix}`);
  return undefined;
}

/** A readable file with at least one PEM certificate in it. */
function parseCaFile(setting: Setting, problems: string[]): string | undefined {
  const fix = 'Point it at a PEM file holding the root certificate(s) to trust (-----BEGIN CERTIFICATE----- …), e.g. the one your IT department gives for its TLS-inspecting proxy.';
  if (typeof setting.value !== 'string' || setting.value.trim() === '') {
    problems.push(`${setting.label}: must be the path of a file. ${fix}`);
    return undefined;
  }
  const path = resolve(setting.value.trim());
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${setting.label}: ${path} cannot be read (${(error as Error).message}). ${fix}`);
    return undefined;
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`${setting.label}: ${path} holds no PEM certificate. ${fix}`);
    return undefined;
  }
  return path;
}

function parseResource(setting: Setting, problems: string[]): string | undefined {
  if (typeof setting.value !== 'string' || !URL.canParse(setting.value) || new URL(setting.value).hash) {
    problems.push(`${setting.label}: "${String(setting.value)}" is not an absolute URI without a fragment (RFC 8707 §2). Use the identifier of your API, e.g. https://api.example.com/.`);
    return undefined;
  }
  return setting.value;
}

function nonEmptyString(setting: Setting, problems: string[]): string | undefined {
  if (typeof setting.value === 'string' && setting.value.trim() !== '') return setting.value.trim();
  problems.push(`${setting.label}: must be a non-empty string. Fix the value.`);
  return undefined;
}

function buildScope(setting: Setting | undefined, problems: string[]): string {
  let requested = DEFAULT_SCOPE.split(' ');
  if (setting) {
    if (typeof setting.value !== 'string') {
      problems.push(`${setting.label}: must be a string of space-separated scopes, e.g. "openid profile email". Fix the value.`);
    } else {
      const tokens = setting.value.split(/\s+/).filter(Boolean);
      // RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
      const invalid = tokens.filter((token) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(token));
      if (invalid.length > 0) {
        problems.push(`${setting.label}: ${invalid.map((token) => JSON.stringify(token)).join(', ')} is not a valid scope (RFC 6749 §3.3). Separate scopes with spaces and leave out quotes and backslashes.`);
      } else {
        requested = tokens;
      }
    }
  }
  return [...new Set([ALWAYS_REQUESTED_SCOPES[0] as string, ...requested, ...ALWAYS_REQUESTED_SCOPES])].join(' ');
}

const PROMPT_VALUES = ['login', 'consent', 'select_account'];

/** `omit` sends no prompt; otherwise space-separated values for an interactive sign-in (`none` cannot be one). */
function parsePrompt(setting: Setting, problems: string[]): string | undefined {
  const fix = `Use space-separated values of ${PROMPT_VALUES.join(', ')}, or "omit" to send no prompt (default: consent, which OpenID Connect Core §11 asks for with offline_access).`;
  if (typeof setting.value !== 'string') {
    problems.push(`${setting.label}: must be a string. ${fix}`);
    return undefined;
  }
  const values = setting.value.split(/\s+/).filter(Boolean);
  if (values.length === 1 && values[0] === 'omit') return undefined;
  const unknown = values.filter((value) => !PROMPT_VALUES.includes(value));
  if (unknown.length > 0 || values.length === 0) {
    const none = unknown.includes('none') ? ' "none" asks for a sign-in without any page, which an interactive sign-in cannot be.' : '';
    problems.push(`${setting.label}: "${setting.value}" is not a prompt Latchkey can send.${none} ${fix}`);
    return undefined;
  }
  return [...new Set(values)].join(' ');
}

function parsePort(setting: Setting, problems: string[], fix: string): number | undefined {
  const { value } = setting;
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  problems.push(`${setting.label}: "${String(value)}" is not a port number (an integer from 1 to 65535, or 0). ${fix}`);
  return undefined;
}

function demoPort(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const value = envValue(env, name);
  if (value === undefined) return fallback;
  return parsePort({ value, label: name }, problems, `Use the port the demo provider listens on (default ${fallback}).`) ?? fallback;
}
