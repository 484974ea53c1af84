import type * as oidc from 'openid-client';
import { AuthError } from '../errors.ts';
import type { ProviderConfiguration } from './configuration.ts';

/**
 * Runs a token request (code exchange, device code poll or refresh) against Entra's
 * common/organizations/consumers endpoints, whose discovered issuer is the
 * template `…/{tenantid}/v2.0`: the ID token's `iss` names the user's own
 * tenant, so it can only be checked once `tid` is known
 * (learn.microsoft.com/entra/identity-platform/v2-protocols-oidc, "Validating
 * the issuer"). The answer is read once: its `tid` is checked against
 * AUTH_ALLOWED_TENANTS, then the same answer is handed to openid-client with
 * the issuer resolved for that tenant, which checks the ID token in full
 * (signature, `iss`, `aud`, nonce, times). Nothing is sent twice.
 */
export async function withUserTenant<T>(provider: ProviderConfiguration, allowedTenants: readonly string[] | undefined, fetch: oidc.CustomFetch, run: (configuration: oidc.Configuration) => Promise<T>, operation: 'sign-in' | 'refresh'): Promise<T> {
  const template = provider.tenantTemplate;
  if (!template) return run(provider.configuration);
  let captured: { response: Response; tid: string } | undefined;
  const capturing: oidc.CustomFetch = async (url, options) => {
    const response = await fetch(url, options);
    const tid = response.status === 200 && isTokenRequest(options) ? await tenantOf(response) : undefined;
    if (tid === undefined) return response;
    captured = { response, tid };
    throw new TenantRead();
  };
  try {
    return await run(provider.withMetadata(provider.metadata, capturing));
  } catch (error) {
    if (!captured || !(error instanceof TenantRead || hasCause(error, TenantRead))) throw error;
  }
  const { tid, response } = captured;
  assertTenantAllowed(tid, allowedTenants, operation);
  let answered = false;
  const replaying: oidc.CustomFetch = async (url, options) => {
    if (!answered && isTokenRequest(options)) {
      answered = true;
      return response;
    }
    return fetch(url, options);
  };
  return run(provider.withMetadata({ ...provider.metadata, issuer: template.replace('{tenantid}', tid) }, replaying));
}

/** AUTH_ALLOWED_TENANTS: a tenant outside it is refused with the reason; `*` allows any tenant on purpose. */
export function assertTenantAllowed(tid: string, allowedTenants: readonly string[] | undefined, operation: 'sign-in' | 'refresh'): void {
  const allowed = allowedTenants ?? [];
  if (allowed.includes('*') || allowed.some((id) => id.toLowerCase() === tid.toLowerCase())) return;
  const reason = `your account belongs to the Microsoft Entra tenant ${tid}, which this app does not allow (AUTH_ALLOWED_TENANTS: ${allowed.join(', ') || 'none'})`;
  if (operation === 'refresh') throw new AuthError('session_ended', `Your session ended: ${reason}. Sign in again with an account of an allowed organization.`);
  throw new AuthError('sign_in_denied', `The sign-in was refused: ${reason}. Sign in with an account of an allowed organization, or ask whoever configured this app to add the tenant.`);
}

class TenantRead extends Error {}

function hasCause(error: unknown, type: new () => Error): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 6; depth++) {
    if (current instanceof type) return true;
    current = (current as Error).cause;
  }
  return false;
}

function isTokenRequest(options: { body?: unknown }): boolean {
  return options.body instanceof URLSearchParams && options.body.has('grant_type');
}

/** The `tid` of the answer's ID token, read without trusting it: it only chooses which issuer openid-client then checks the token against. */
async function tenantOf(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.clone().json()) as { id_token?: unknown };
    if (typeof body.id_token !== 'string') return undefined;
    const payload = body.id_token.split('.')[1] ?? '';
    const { tid } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof tid === 'string' && /^[\w-]+$/.test(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}
