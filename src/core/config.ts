import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_DEMO_API_PORT, DEFAULT_DEMO_IDP_PORT, DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../shared/constants.ts';
import { AuthError } from './errors.ts';
import { LOG_LEVELS, parseLevel } from './log.ts';

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
  keychainService: string;
  dataDir: string;
  /** True when no issuer was configured and the bundled demo provider is used. */
  usesDemoProvider: boolean;
  /** A PEM bundle of extra root certificates to trust for the provider (AUTH_CA_FILE), e.g. a TLS-inspecting proxy's. */
  caFile?: string;
  /** With the demo provider: the loopback ports its provider and API listen on (DEMO_IDP_PORT, DEMO_API_PORT). */
  demoPorts?: { idp: number; api: number };
}

/** The keys a JSON config file may carry (camelCase, like AuthConfig). */
const FILE_KEYS = ['issuer', 'auth0Domain', 'clientId', 'audience', 'resource', 'scope', 'prompt', 'redirectPort', 'apiBaseUrl', 'caFile'] as const;
type FileKey = (typeof FILE_KEYS)[number];

const ENV_NAMES: Record<FileKey, string> = {
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
};

const SECRET_ENV_NAMES = ['AUTH_CLIENT_SECRET', 'AUTH0_CLIENT_SECRET'];
const SECRET_FILE_KEYS = ['clientSecret', 'client_secret'];

/** One configured value and where it came from, so a problem can name the setting the user wrote. */
interface Setting {
  value: unknown;
  label: string;
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
 * file (`AUTH_CONFIG`, else `<dataDir>/config.json` when present), then
 * defaults; with no issuer anywhere, the bundled demo provider. The app is a
 * public native client (RFC 8252 §8.5): a client secret is refused, and the
 * issuer must use https unless it is on loopback (RFC 8252 §8.3 for the redirect,
 * RFC 9700 §2.6 for transport). Throws `AuthError('config_invalid')` listing
 * every problem found, one line each.
 */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; dataDir?: string } = {}): AuthConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];

  const dataDirFromEnv = envValue(env, 'AUTH_DATA_DIR');
  const dataDir = resolve(dataDirFromEnv ?? options.dataDir ?? defaultDataDir(env));
  const file = readConfigFile(env, dataDir, problems);

  for (const name of SECRET_ENV_NAMES) {
    if (envValue(env, name) !== undefined) problems.push(clientSecretProblem(name));
  }
  const logLevel = envValue(env, 'LATCHKEY_LOG_LEVEL');
  if (logLevel !== undefined && parseLevel(logLevel) === undefined) {
    problems.push(`LATCHKEY_LOG_LEVEL: "${logLevel}" is not a log level. Use one of ${LOG_LEVELS.join(', ')}, or unset it (default warn).`);
  }

  const pick = (key: FileKey): Setting | undefined => {
    const fromEnv = envValue(env, ENV_NAMES[key]);
    if (fromEnv !== undefined) return { value: fromEnv, label: ENV_NAMES[key] };
    if (file && file.values[key] !== undefined) return { value: file.values[key], label: `"${key}" in ${file.path}` };
    return undefined;
  };

  const issuerSetting = pickIssuer(env, file, problems);
  const issuer = issuerSetting ? parseIssuer(issuerSetting, problems) : undefined;
  const usesDemoProvider = issuerSetting === undefined;

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
  } else if (clientIdSetting === undefined) {
    problems.push(
      `AUTH_CLIENT_ID: missing; an issuer is configured (${issuerSetting.label}) but no client id. ` +
        'Set AUTH_CLIENT_ID (or "clientId" in the config file) to the client id of the native/public application registered at your provider.',
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

  const demoIssuer = demoPorts ? new URL(`http://127.0.0.1:${demoPorts.idp}`).href : '';

  if (problems.length > 0) throw new AuthError('config_invalid', problems.join('\n'));

  const config: AuthConfig = {
    issuer: usesDemoProvider ? demoIssuer : (issuer as string),
    clientId: usesDemoProvider ? DEMO_CLIENT_ID : (clientId as string),
    scope,
    redirectPort,
    apiBaseUrl,
    keychainService: envValue(env, 'AUTH_KEYCHAIN_SERVICE') ?? DEFAULT_KEYCHAIN_SERVICE,
    dataDir,
    usesDemoProvider,
  };
  const effectiveAudience = usesDemoProvider ? DEMO_AUDIENCE : audience;
  if (effectiveAudience !== undefined) config.audience = effectiveAudience;
  if (resource !== undefined) config.resource = resource;
  if (prompt !== undefined) config.prompt = prompt;
  if (demoPorts) config.demoPorts = demoPorts;
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

function readConfigFile(env: NodeJS.ProcessEnv, dataDir: string, problems: string[]): { path: string; values: Partial<Record<FileKey, unknown>> } | undefined {
  const explicit = envValue(env, 'AUTH_CONFIG');
  const path = explicit ? resolve(explicit) : join(dataDir, 'config.json');
  const label = explicit ? `AUTH_CONFIG (${path})` : `config file ${path}`;
  if (!explicit && !existsSync(path)) return undefined;

  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${(error as Error).message})`;
    problems.push(`${label}: ${reason}. Point AUTH_CONFIG at an existing JSON file, or unset it.`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problems.push(`${label}: not valid JSON (${(error as Error).message}). Fix the file; it must hold one JSON object such as {"issuer": "https://…", "clientId": "…"}.`);
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${label}: must hold one JSON object such as {"issuer": "https://…", "clientId": "…"}. Fix the file.`);
    return undefined;
  }

  const values: Partial<Record<FileKey, unknown>> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (SECRET_FILE_KEYS.includes(key)) {
      problems.push(clientSecretProblem(`"${key}" in ${path}`));
    } else if ((FILE_KEYS as readonly string[]).includes(key)) {
      if (value !== null && value !== '') values[key as FileKey] = value;
    } else {
      problems.push(`"${key}" in ${path}: not a known setting. Remove it; the known settings are ${FILE_KEYS.join(', ')}.`);
    }
  }
  return { path, values };
}

function clientSecretProblem(label: string): string {
  return (
    `${label}: a client secret was given, but Latchkey is a desktop app — a public client — and never uses one: ` +
    'anything shipped in an installed app can be extracted by its users (RFC 8252 §8.5). Remove the secret, ' +
    'register the app at your provider as a native/public application (token endpoint auth method "none"), and use PKCE, which Latchkey always does.'
  );
}

/** The issuer and the Auth0 domain are one setting; within a source, giving both differently is ambiguous. */
function pickIssuer(env: NodeJS.ProcessEnv, file: { path: string; values: Partial<Record<FileKey, unknown>> } | undefined, problems: string[]): Setting | undefined {
  const sources: Array<[Setting | undefined, Setting | undefined]> = [
    [envSetting(env, 'issuer'), envSetting(env, 'auth0Domain')],
    [fileSetting(file, 'issuer'), fileSetting(file, 'auth0Domain')],
  ];
  for (const [issuer, domain] of sources) {
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
  const value = envValue(env, ENV_NAMES[key]);
  return value === undefined ? undefined : { value, label: ENV_NAMES[key] };
}

function fileSetting(file: { path: string; values: Partial<Record<FileKey, unknown>> } | undefined, key: FileKey): Setting | undefined {
  return file && file.values[key] !== undefined ? { value: file.values[key], label: `"${key}" in ${file.path}` } : undefined;
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
