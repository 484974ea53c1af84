import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuthError } from '../errors.ts';

/** The keys a JSON settings object may carry (camelCase, like AuthConfig). */
export const FILE_KEYS = [
  'issuer', 'auth0Domain', 'clientId', 'audience', 'resource', 'scope', 'prompt', 'dpop', 'redirectPort', 'apiBaseUrl', 'caFile', 'postLogoutRedirectUri', 'externalLinks', 'apis',
  // The provider preset and what goes with it (providers/provider-settings.ts).
  'provider', 'clientSecret', 'redirectHost', 'tenant', 'allowedTenants', 'authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint', 'revocationEndpoint', 'deviceAuthorizationEndpoint',
] as const;
export type FileKey = (typeof FILE_KEYS)[number];

const SECRET_FILE_KEYS = ['client_secret'];

/** One configured value and where it came from, so a problem can name the setting the user wrote. */
export interface Setting {
  value: unknown;
  label: string;
}

/** Settings read from one JSON object, and the name to show for it in problems (a path or a file name). */
export interface ConfigObject {
  path: string;
  values: Partial<Record<FileKey, unknown>>;
}

/** The name of the build-time settings file, next to electron-builder.yml. */
export const BUILD_CONFIG_FILE = 'latchkey.config.json';

/**
 * Reads a JSON settings file into a `ConfigObject`, or pushes one problem
 * per thing wrong with it; `label` names it in those problems.
 */
export function readConfigObject(path: string, label: string, problems: string[]): ConfigObject | undefined {
  const parsed = readJsonFile(path, label, problems);
  return parsed === undefined ? undefined : parseConfigObject(parsed, path, label, problems);
}

function readJsonFile(path: string, label: string, problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${(error as Error).message})`;
    problems.push(`${label}: ${reason}. Point AUTH_CONFIG at an existing JSON file, or unset it.`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`${label}: not valid JSON (${(error as Error).message}). Fix the file; it must hold one JSON object such as {"issuer": "https://…", "clientId": "…"}.`);
    return undefined;
  }
}

/** Checks a parsed settings object: known keys only, and never a client secret. */
export function parseConfigObject(parsed: unknown, path: string, label: string, problems: string[]): ConfigObject | undefined {
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

export function clientSecretProblem(label: string): string {
  return (
    `${label}: a client secret under this name is not read. Latchkey is a desktop app — a public client — and a secret shipped in it ` +
    'can be extracted by its users (RFC 8252 §8.5). Register the app at your provider as a native/public application (token endpoint auth method "none"); ' +
    'only where the provider insists on its secret (Google, GitHub), give it as AUTH_CLIENT_SECRET or "clientSecret".'
  );
}

/**
 * Reads `latchkey.config.json`, the provider settings a build is made for: the
 * parsed object, or undefined when there is no such file. `loadConfig` checks
 * its settings like any others; this only reads it.
 */
export function readBuildConfig(path: string): unknown {
  if (!existsSync(path)) return undefined;
  const problems: string[] = [];
  const parsed = readJsonFile(path, path, problems);
  if (parsed === undefined) throw new AuthError('config_invalid', problems.join('\n'));
  return parsed;
}

/** The key under which a build embeds the certificates of its `caFile` (PEM text, never a path). */
export const EMBEDDED_CERTIFICATES_KEY = 'caCertificates';

/**
 * The build's settings as they are embedded: `caFile`, resolved against the
 * project folder and read now, becomes the PEM text of its certificates
 * (`caCertificates`). A packaged app must not resolve a path at run time — a
 * relative one would follow whatever folder it was started from, where
 * anyone could have placed a root of their own.
 */
export function embedCertificates(settings: unknown, projectDir: string): unknown {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return settings;
  const { caFile, ...rest } = settings as Record<string, unknown>;
  if (caFile === undefined || caFile === null || caFile === '') return settings;
  if (typeof caFile !== 'string') throw new AuthError('config_invalid', `"caFile" in ${BUILD_CONFIG_FILE}: must be the path of a PEM file, relative to the project folder.`);
  const path = resolve(projectDir, caFile);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AuthError('config_invalid', `"caFile" in ${BUILD_CONFIG_FILE}: ${path} cannot be read (${(error as Error).message}). Point it at a PEM file of root certificates, relative to the project folder.`, { cause: error });
  }
  return { ...rest, [EMBEDDED_CERTIFICATES_KEY]: text };
}

/** A list of https URLs without credentials: the pages the app itself links to. */
export function parseExternalLinks(setting: Setting, problems: string[]): string[] {
  const fix = 'Use a list of https URLs, e.g. ["https://account.example.com/", "https://api.example.com/docs/"].';
  if (!Array.isArray(setting.value)) {
    problems.push(`${setting.label}: must be a list of https URLs. ${fix}`);
    return [];
  }
  const links: string[] = [];
  for (const value of setting.value as unknown[]) {
    const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
    if (!url || url.protocol !== 'https:' || url.username || url.password) problems.push(`${setting.label}: "${String(value)}" is not an https URL without credentials. ${fix}`);
    else links.push(url.href);
  }
  return links;
}
