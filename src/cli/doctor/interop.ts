import type { AuthConfig } from '../../core/index.ts';
import { askRedirectAccepted } from '../../core/doctor.ts';
import type { Check } from './check.ts';
import { EXIT } from '../exit-codes.ts';

/**
 * The refresh grant, judged from `grant_types_supported`. Providers that
 * refresh fine leave it out (Glewlwyd, oauth2-mock-server), so its absence is
 * a warning: the sign-in shows whether a refresh token is issued.
 */
export function refreshGrantCheck(metadata: Record<string, unknown>): Check {
  const offered = Array.isArray(metadata.grant_types_supported) ? metadata.grant_types_supported.map(String) : undefined;
  if (offered?.includes('refresh_token')) return { name: 'Refresh token grant', outcome: 'pass', detail: 'supported' };
  return {
    name: 'Refresh token grant',
    outcome: 'warn',
    detail: offered ? `not advertised (grant_types_supported: ${offered.join(', ') || 'none'}); tried at sign-in` : 'not advertised (grant_types_supported is missing); tried at sign-in',
    fix: 'Allow the refresh_token grant and offline_access for the application at the provider (Auth0: Application → Advanced Settings → Grant Types, and Allow Offline Access on the API); `latchkey login` says so if no refresh token comes.',
  };
}

/**
 * Asks the authorization endpoint whether it takes the redirect URI a sign-in
 * would use — with no fixed port, a random one — without following redirects
 * (RFC 6749 §3.1.2.4). A provider that matches redirect URIs exactly refuses a
 * random port; `login` would otherwise wait out its timeout.
 */
export async function redirectAcceptedCheck(config: AuthConfig, metadata: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Check> {
  const name = 'Redirect URI accepted';
  if (typeof metadata.authorization_endpoint !== 'string') return { name, outcome: 'warn', detail: 'no authorization_endpoint in the metadata to ask' };
  const answer = await askRedirectAccepted(config, metadata.authorization_endpoint, env);
  switch (answer.verdict) {
    case 'accepted':
      return { name, outcome: 'pass', detail: `${metadata.authorization_endpoint} accepts ${answer.redirectUri}${config.redirectPort === 0 ? ' (a random port, as each sign-in uses)' : ''}` };
    case 'refused':
      return { name, outcome: 'fail', detail: answer.message, failsWith: EXIT.usage };
    case 'inconclusive':
      return { name, outcome: 'warn', detail: `could not ask ${metadata.authorization_endpoint} (${answer.reason})` };
  }
}
