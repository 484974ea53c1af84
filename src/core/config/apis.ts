import type { ProviderPreset } from '../presets/preset.ts';
import type { Setting } from './files.ts';
import { nonEmptyString, parseHttpUrl, parseResource } from './values.ts';

/** One API the app calls, and what its access tokens are asked for with (RFC 8707 `resource`, Auth0's `audience`, its scopes). */
export interface ApiConfig {
  /** What `latchkey token --api NAME` and the messages call it. */
  name: string;
  /** Requests under this URL get this API's token (the longest base URL that a request's URL is under wins). */
  baseUrl: string;
  audience?: string;
  resource?: string;
  /** Space-separated scopes asked for this API's tokens; unset: the sign-in's scope. */
  scope?: string;
}

/** The name of the API that the one-API shorthand (API_BASE_URL, AUTH_AUDIENCE, AUTH_RESOURCE) describes. */
export const SHORTHAND_API_NAME = 'api';

const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/i;
const EXAMPLE = '[{"name": "files", "baseUrl": "https://files.example.com/", "resource": "https://files.example.com/"}]';

/**
 * `"apis"` in a config file: a list of `{ name, baseUrl, resource | audience, scope? }`, names and base
 * URLs unique. Problems are added to `problems`, one line each, naming the setting as written.
 */
export function parseApis(setting: Setting, problems: string[]): ApiConfig[] {
  if (!Array.isArray(setting.value) || setting.value.length === 0) {
    problems.push(`${setting.label}: must be a non-empty list of APIs, e.g. ${EXAMPLE}.`);
    return [];
  }
  const apis: ApiConfig[] = [];
  for (const [index, value] of (setting.value as unknown[]).entries()) {
    const label = `${setting.label}[${index}]`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${label}: must be an object such as ${EXAMPLE.slice(1, -1)}.`);
      continue;
    }
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((key) => !['name', 'baseUrl', 'audience', 'resource', 'scope'].includes(key));
    if (unknown.length > 0) problems.push(`${label}: ${unknown.map((key) => `"${key}"`).join(', ')} is not a setting of an API. Use name, baseUrl, resource or audience, and scope.`);
    const name = typeof fields.name === 'string' && NAME.test(fields.name) ? fields.name : undefined;
    if (name === undefined) problems.push(`${label}.name: "${String(fields.name)}" is not an API name. Use letters, digits, - and _ (at most 40), e.g. "files".`);
    const baseUrl = parseHttpUrl({ value: fields.baseUrl, label: `${label}.baseUrl` }, problems, 'Use the https URL of the API, e.g. https://files.example.com/.');
    const api: ApiConfig = { name: name ?? '', baseUrl: baseUrl ?? '' };
    if (fields.audience !== undefined) {
      const audience = nonEmptyString({ value: fields.audience, label: `${label}.audience` }, problems);
      if (audience !== undefined) api.audience = audience;
    }
    if (fields.resource !== undefined) {
      const resource = parseResource({ value: fields.resource, label: `${label}.resource` }, problems);
      if (resource !== undefined) api.resource = resource;
    }
    if (fields.scope !== undefined) {
      const scope = typeof fields.scope === 'string' ? fields.scope.split(/\s+/).filter(Boolean) : [];
      // RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
      if (scope.length === 0 || scope.some((token) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(token))) {
        problems.push(`${label}.scope: "${String(fields.scope)}" is not a list of scopes (RFC 6749 §3.3). Separate scopes with spaces, e.g. "files.read files.write".`);
      } else {
        api.scope = scope.join(' ');
      }
    }
    apis.push(api);
  }
  for (const key of ['name', 'baseUrl'] as const) {
    const seen = new Set<string>();
    for (const api of apis) {
      if (api[key] !== '' && seen.has(api[key])) problems.push(`${setting.label}: two APIs have the ${key} "${api[key]}". Give each API its own ${key}.`);
      seen.add(api[key]);
    }
  }
  return apis;
}

/**
 * Whether the provider can give a token for each of `apis` from one refresh token, the way its preset says it
 * wants one asked (see `ApiTokens`): where it cannot, with several APIs, the provider's own words say what to
 * configure; every API after the first must name what its token is for (the first one's token is the sign-in's).
 */
export function checkApisForPreset(apis: ApiConfig[], preset: Pick<ProviderPreset, 'apiTokens' | 'title'>, label: string, problems: string[]): void {
  if (apis.length < 2) return;
  const { apiTokens } = preset;
  if (apiTokens.by === 'none') {
    problems.push(`${label}: ${preset.title} cannot give a token per API from one sign-in. ${apiTokens.words}.`);
    return;
  }
  for (const api of apis.slice(1)) {
    if (apiTokens.by === 'scope' && api.scope === undefined) {
      problems.push(`${label}: the API "${api.name}" has no "scope". ${preset.title} gives a token per API by its scopes: set the API's scope (e.g. "api://files/.default" for Entra).`);
    } else if (apiTokens.by !== 'scope' && api.resource === undefined && api.audience === undefined) {
      problems.push(`${label}: the API "${api.name}" has no "${apiTokens.by}". ${preset.title} gives a token per API by its ${apiTokens.by}: set the identifier the provider knows the API by.`);
    }
  }
}
