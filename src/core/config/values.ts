import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Setting } from './files.ts';
import type { ProviderPreset } from '../presets/preset.ts';

// How each setting's value is checked: one function per kind of value, each pushing one actionable
// line per problem (naming the setting as the user wrote it) and returning the value or undefined.


/** A variable's trimmed value; unset and empty are the same. */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
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

/** `tenant.auth0.com` (or `https://tenant.auth0.com/`) → `https://tenant.auth0.com/`. */
export function auth0DomainToIssuer(domain: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`;
  if (!URL.canParse(withScheme)) return undefined;
  const url = new URL(withScheme);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return undefined;
  return url.href;
}

export function parseIssuer(setting: Setting, problems: string[]): string | undefined {
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
export function parseHttpUrl(setting: Setting, problems: string[], fix: string): string | undefined {
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
export function parseCaFile(setting: Setting, problems: string[]): string | undefined {
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

/** PEM text a build embedded (`embedCertificates`): it must hold at least one certificate. */
export function parseEmbeddedCertificates(value: unknown, label: string, problems: string[]): string | undefined {
  if (typeof value === 'string' && value.includes('-----BEGIN CERTIFICATE-----')) return value;
  problems.push(`${label}: the certificates the build embedded hold no PEM certificate. Point "caFile" in latchkey.config.json at a PEM file of root certificates and build again.`);
  return undefined;
}

export function parseResource(setting: Setting, problems: string[]): string | undefined {
  if (typeof setting.value !== 'string' || !URL.canParse(setting.value) || new URL(setting.value).hash) {
    problems.push(`${setting.label}: "${String(setting.value)}" is not an absolute URI without a fragment (RFC 8707 §2). Use the identifier of your API, e.g. https://api.example.com/.`);
    return undefined;
  }
  return setting.value;
}

export function nonEmptyString(setting: Setting, problems: string[]): string | undefined {
  if (typeof setting.value === 'string' && setting.value.trim() !== '') return setting.value.trim();
  problems.push(`${setting.label}: must be a non-empty string. Fix the value.`);
  return undefined;
}

/** The scope to request: AUTH_SCOPE or the preset's default, plus the scopes the preset always asks for; a scope the provider refuses is a problem. */
export function buildScope(setting: Setting | undefined, problems: string[], preset: Pick<ProviderPreset, 'defaultScope' | 'requiredScopes' | 'refusedScopes' | 'title'>): string {
  let requested = preset.defaultScope.split(' ').filter(Boolean);
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
  for (const token of requested) {
    const refusal = preset.refusedScopes?.[token];
    if (refusal && setting) problems.push(`${setting.label}: leave out "${token}": ${refusal}.`);
  }
  const [first, ...rest] = preset.requiredScopes;
  const scopes = [...(first ? [first] : []), ...requested, ...rest].filter((token) => !preset.refusedScopes?.[token]);
  return [...new Set(scopes)].join(' ');
}

const PROMPT_VALUES = ['login', 'consent', 'select_account'];

/** `omit` sends no prompt; otherwise space-separated values for an interactive sign-in (`none` cannot be one). */
export function parsePrompt(setting: Setting, problems: string[]): string | undefined {
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

export type DpopMode = 'auto' | 'required' | 'off';
const DPOP_MODES: readonly DpopMode[] = ['auto', 'required', 'off'];

/** AUTH_DPOP / "dpop": when to bind tokens to a key of this installation (RFC 9449). */
export function parseDpopMode(setting: Setting, problems: string[]): DpopMode {
  const value = typeof setting.value === 'string' ? setting.value.trim().toLowerCase() : setting.value;
  if (DPOP_MODES.includes(value as DpopMode)) return value as DpopMode;
  problems.push(
    `${setting.label}: "${String(setting.value)}" is not a DPoP mode. Use auto (the default: DPoP when the provider supports it), required (refuse to sign in without it) or off.`,
  );
  return 'auto';
}

export function parsePort(setting: Setting, problems: string[], fix: string): number | undefined {
  const { value } = setting;
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  problems.push(`${setting.label}: "${String(value)}" is not a port number (an integer from 1 to 65535, or 0). ${fix}`);
  return undefined;
}

export function demoPort(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const value = envValue(env, name);
  if (value === undefined) return fallback;
  return parsePort({ value, label: name }, problems, `Use the port the demo provider listens on (default ${fallback}).`) ?? fallback;
}
