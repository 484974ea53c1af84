import { AGENT_SOCK_VARIABLE, readFreshSharedToken, type AuthConfig, type FreshSharedToken } from '../core/index.ts';

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
  if (values.refresh || !firstApi || env[AGENT_SOCK_VARIABLE] || env.LATCHKEY_INSECURE_PLAINTEXT_FILE) return undefined;
  return readFreshSharedToken(config, { account: accountAskedFor(values, env) });
}

/** Said on stderr after `token` prints a bound token: the token alone is not enough to call the API. */
export const DPOP_BOUND_HINT =
  "This access token is DPoP-bound (RFC 9449): an API accepts it only with a proof signed by this session's key. Use `latchkey headers URL` for the headers of one call.";
