import { AGENT_SOCK_VARIABLE, apiForUrl, createRequestHeaders, readFreshSharedToken, type AuthConfig, type FreshSharedToken } from '../core/index.ts';
import type { ApiRequestHeaders } from '../shared/auth-state.ts';

type Values = Record<string, string | boolean | undefined>;

/**
 * The account a command acts for, by name or `sub`: `--account NAME`, else LATCHKEY_ACCOUNT, else undefined (the
 * default account as it is when the command starts — it keeps that one, whatever another terminal switches to).
 */
export function accountAskedFor(values: Values, env: NodeJS.ProcessEnv): string | undefined {
  if (typeof values.account === 'string' && values.account !== '') return values.account;
  const fromEnvironment = env.LATCHKEY_ACCOUNT;
  return fromEnvironment !== undefined && fromEnvironment !== '' ? fromEnvironment : undefined;
}

/**
 * What `latchkey token` prints without starting a session: the fresh token the account's keychain entry shares
 * (readFreshSharedToken), when the command asks for nothing else — no `--refresh`, the first API, no agent, no
 * plaintext file. Undefined: the session decides (commands.ts).
 */
export async function quickToken(config: AuthConfig, values: Values, env: NodeJS.ProcessEnv): Promise<FreshSharedToken | undefined> {
  const firstApi = values.api === undefined || values.api === config.apis[0]?.name;
  if (values.refresh || !firstApi || !inTheKeychain(env)) return undefined;
  return readFreshSharedToken(config, { account: accountAskedFor(values, env) });
}

/**
 * What `latchkey headers [--method M] URL` prints without starting a session: the headers of that one call, made by
 * the session's own `createRequestHeaders` (a bound token's proof signed with the entry's key), with the fresh token
 * the account's entry shares — when the URL is under the first API (the token the entry shares is that API's), no
 * agent, no plaintext file. Undefined: the session decides, and says what is wrong with a URL or method it refuses.
 */
export async function quickHeaders(config: AuthConfig, values: Values, positionals: string[], env: NodeJS.ProcessEnv): Promise<ApiRequestHeaders | undefined> {
  const [url, ...extra] = positionals;
  if (url === undefined || extra.length > 0 || !inTheKeychain(env)) return undefined;
  try {
    if (apiForUrl(url, config.apis).api !== config.apis[0]) return undefined;
  } catch {
    return undefined;
  }
  const fresh = await readFreshSharedToken(config, { account: accountAskedFor(values, env) });
  if (!fresh) return undefined;
  const headersFor = createRequestHeaders({ apis: config.apis, memory: () => ({ access: fresh.access, dpop: fresh.key }), getAccessToken: async () => fresh.access.value, clock: Date.now });
  return headersFor({ method: typeof values.method === 'string' ? values.method : 'GET', url });
}

/** The headers as `headers` prints them: one `Name: value` line each. */
export const headerLines = (headers: ApiRequestHeaders): string =>
  Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${value}\n`)
    .join('');

/** The session is the OS keychain's (not an agent's, not a plaintext file's): the only one read without a session. */
const inTheKeychain = (env: NodeJS.ProcessEnv) => !env[AGENT_SOCK_VARIABLE] && !env.LATCHKEY_INSECURE_PLAINTEXT_FILE;

/** Said on stderr after `token` prints a bound token: the token alone is not enough to call the API. */
export const DPOP_BOUND_HINT =
  "This access token is DPoP-bound (RFC 9449): an API accepts it only with a proof signed by this session's key. Use `latchkey headers URL` for the headers of one call.";
