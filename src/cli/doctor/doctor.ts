import { connectProvider, createHttpClient, toErrorInfo, trustSettingsOf, type AuthConfig } from '../../core/index.ts';
import { localFacts, providerFacts, redirectFacts, type LocalFacts, type ProviderClient } from '../../core/doctor.ts';
import type { CommandContext } from '../context.ts';
import { EXIT, exitCodeFor, type ExitCode } from '../exit-codes.ts';
import type { Check, Outcome } from './check.ts';
import { dpopCheck } from './dpop.ts';
import { redirectAcceptedCheck, refreshGrantCheck } from './interop.ts';
import { networkChecks } from './network.ts';
import { presetChecks } from './preset.ts';
import { storeCheck } from './store.ts';

const MARK: Record<Outcome, string> = { pass: '✓', warn: '!', fail: '✗' };

/**
 * `doctor`: checks the configuration against the provider's discovered
 * metadata (RFC 8414 / OpenID Connect Discovery) — PKCE S256 (RFC 7636), the
 * refresh_token grant, a public client, revocation (RFC 7009) — says which
 * redirect URI will be used and what to register for it (RFC 8252 §7.3), and
 * asks the authorization endpoint whether it accepts that redirect URI.
 */
export async function doctorCommand(context: CommandContext): Promise<ExitCode> {
  const { config, io, logger } = context;
  const checks: Check[] = [];
  checks.push({
    name: 'Configuration',
    outcome: 'pass',
    detail: `issuer ${config.issuer}, client id ${config.clientId}${config.usesDemoProvider ? ' (the bundled demo provider: start it with `npm run idp`)' : ''}`,
  });
  checks.push(...presetChecks(config));
  const { ownEndpoints } = providerFacts(config);

  const http = createHttpClient({ env: io.env, ...trustSettingsOf(config) });
  let provider: ProviderClient | undefined;
  try {
    checks.push(...(await networkChecks(http, config.issuer, Date.now, io.env)));
    provider = await connectProvider(config, { http, logger });
    checks.push(
      ownEndpoints
        ? { name: 'Endpoints', outcome: 'pass', detail: `authorization ${String(provider.metadata.authorization_endpoint)}, token ${String(provider.metadata.token_endpoint)} (configured; no discovery)` }
        : { name: 'Discovery', outcome: 'pass', detail: `${new URL('.well-known/openid-configuration', withSlash(config.issuer)).href} answered` },
    );
  } catch (error) {
    // A proxy asking for a sign-in or a refused certificate: the message itself says what to do.
    const explained = ['proxy_auth_required', 'certificate_untrusted'].includes(toErrorInfo(error).code);
    checks.push({
      name: 'Discovery',
      outcome: 'fail',
      detail: (error as Error).message,
      fix: explained ? undefined : config.usesDemoProvider
        ? 'Start the demo provider with `npm run idp`, or configure your provider with AUTH_ISSUER (or AUTH0_DOMAIN) and AUTH_CLIENT_ID.'
        : 'Check AUTH_ISSUER / AUTH0_DOMAIN, your network connection and proxy settings (HTTPS_PROXY, NO_PROXY).',
      failsWith: exitCodeFor(error),
    });
  } finally {
    await http.close();
  }

  if (provider) {
    // Without discovery only what the endpoints say can be judged; with a secret the provider insists on, "Client secret" above replaces "Public client".
    const relevant = (check: Check) => (!ownEndpoints || ['Revocation', 'End session'].includes(check.name)) && !(check.name === 'Public client' && config.clientSecret !== undefined);
    checks.push(...metadataChecks(provider.metadata).filter(relevant), dpopCheck(config, provider.metadata, provider.presetOffersDpop));
  }
  checks.push(await redirectCheck(config));
  if (provider) checks.push(await redirectAcceptedCheck(config, provider.metadata, io.env));

  const local = await localFacts(config, logger);
  checks.push(await storeCheck(io.env, config.keychainService, local.keychain));

  checks.push(dataFolderCheck(local.dataFolder), lockFolderCheck(local.lockFolder), rotationCheck(config));

  for (const check of checks) {
    io.stdout(`${MARK[check.outcome]} ${check.name}: ${check.detail}\n`);
    if (check.fix && check.outcome !== 'pass') io.stdout(`    fix: ${check.fix}\n`);
  }
  const failures = checks.filter((check) => check.outcome === 'fail');
  for (const failure of failures) io.stderr(`${failure.name}: ${failure.detail}`);
  if (failures.some((check) => check.failsWith === EXIT.providerUnavailable)) return EXIT.providerUnavailable;
  if (failures.length > 0) return failures[0]?.failsWith ?? EXIT.usage;
  return EXIT.ok;
}

/** A capability the provider lists in its metadata: passes when listed, warns when the list is absent, fails when it lists only others. */
function listedCheck(
  name: string,
  field: string,
  list: (field: string) => string[] | undefined,
  wanted: string,
  fixes: { unadvertised: string; unsupported: string },
): Check {
  const offered = list(field);
  if (offered?.includes(wanted)) return { name, outcome: 'pass', detail: 'supported' };
  if (offered === undefined) return { name, outcome: 'warn', detail: `not advertised (${field} is missing)`, fix: fixes.unadvertised };
  return { name, outcome: 'fail', detail: `not supported (the provider offers: ${offered.join(', ') || 'none'})`, fix: fixes.unsupported, failsWith: EXIT.providerUnavailable };
}

/** The provider capabilities Latchkey needs, judged from its discovery metadata (RFC 8414). */
export function metadataChecks(metadata: Record<string, unknown>): Check[] {
  const list = (field: string): string[] | undefined => (Array.isArray(metadata[field]) ? (metadata[field] as unknown[]).map(String) : undefined);
  const checks: Check[] = [];

  checks.push(
    listedCheck('PKCE S256', 'code_challenge_methods_supported', list, 'S256', {
      unadvertised: 'Check that your provider supports PKCE with S256 for public clients; sign-in fails without it.',
      unsupported: 'Use a provider that supports PKCE S256 (RFC 7636); a desktop app cannot sign in safely without it.',
    }),
    refreshGrantCheck(metadata),
  );

  const authMethods = list('token_endpoint_auth_methods_supported');
  checks.push(
    authMethods === undefined || authMethods.includes('none')
      ? { name: 'Public client', outcome: 'pass', detail: 'the token endpoint accepts clients without a secret (auth method "none")' }
      : { name: 'Public client', outcome: 'warn', detail: `token endpoint auth methods: ${authMethods.join(', ')}`, fix: 'Register the app as a native/public application (token endpoint auth method "none"); Latchkey sends no client secret unless the provider insists on one (AUTH_CLIENT_SECRET).' },
  );

  checks.push(
    typeof metadata.revocation_endpoint === 'string'
      ? { name: 'Revocation', outcome: 'pass', detail: `available at ${metadata.revocation_endpoint}` }
      : { name: 'Revocation', outcome: 'warn', detail: 'no revocation_endpoint: `logout` can only forget the session on this computer', fix: 'Enable token revocation at the provider if it offers it.' },
  );
  checks.push(
    typeof metadata.end_session_endpoint === 'string'
      ? { name: 'End session', outcome: 'pass', detail: `available at ${metadata.end_session_endpoint}` }
      : { name: 'End session', outcome: 'warn', detail: 'no end_session_endpoint: signing out leaves the provider’s browser session in place', fix: 'Nothing to do in Latchkey; sign out at the provider’s site if needed.' },
  );
  return checks;
}

async function redirectCheck(config: AuthConfig): Promise<Check> {
  const redirect = await redirectFacts(config);
  const { preset, isAuth0 } = providerFacts(config);
  const who = isAuth0 ? 'Auth0' : preset.title;
  if (redirect.port === 0) {
    const detail = `${redirect.uri} with a free PORT picked per sign-in`;
    if (redirect.exactMatch) {
      return {
        name: 'Redirect URI',
        outcome: 'fail',
        detail: `${detail}, but ${who} matches callback URLs exactly, port included`,
        fix: `${who} matches callback URLs exactly, so a fixed AUTH_REDIRECT_PORT is needed: set AUTH_REDIRECT_PORT=${redirect.suggested.port} and register ${isAuth0 ? 'Allowed Callback URLs: ' : 'the callback URL '}${redirect.suggested.uri}`,
        failsWith: EXIT.usage,
      };
    }
    return {
      name: 'Redirect URI',
      outcome: 'pass',
      detail: `${detail}. Register http://${redirect.host}/callback at the provider (any port, RFC 8252 §7.3); providers that match exactly (Auth0: "Allowed Callback URLs: ${redirect.uri}") need a fixed AUTH_REDIRECT_PORT.`,
    };
  }
  const register = isAuth0 ? `Allowed Callback URLs: ${redirect.uri}` : `the redirect URI ${redirect.uri}`;
  if (!redirect.portFree) {
    return {
      name: 'Redirect URI',
      outcome: 'fail',
      detail: `${redirect.uri}, but port ${redirect.port} on 127.0.0.1 is in use`,
      fix: `Stop what listens on port ${redirect.port}, or choose another AUTH_REDIRECT_PORT and register it at the provider.`,
      failsWith: EXIT.usage,
    };
  }
  return { name: 'Redirect URI', outcome: 'pass', detail: `${redirect.uri} — register at the provider: ${register}` };
}

/** The folder the cached profile lives in: every command but `doctor` needs it. */
function dataFolderCheck({ path, problem }: LocalFacts['dataFolder']): Check {
  if (problem === undefined) return { name: 'Data folder', outcome: 'pass', detail: path };
  return { name: 'Data folder', outcome: 'fail', detail: `${path} cannot be used (${problem})`, fix: 'Set AUTH_DATA_DIR to a folder you can write to.', failsWith: EXIT.usage };
}

/** Where every process of this user meets to take turns with the keychain entry, whatever its data folder. */
function lockFolderCheck({ path, problem }: LocalFacts['lockFolder']): Check {
  if (problem === undefined) return { name: 'Lock folder', outcome: 'pass', detail: `${path} (private to you)` };
  return { name: 'Lock folder', outcome: 'fail', detail: problem, fix: `Remove ${path}; Latchkey recreates it, private to you.`, failsWith: EXIT.usage };
}

/**
 * Latchkey stores a rotated refresh token before it checks the response, so
 * only a crash or power loss between the provider's answer and the keychain
 * write can lose one — and under rotation the next refresh would then look
 * like reuse and end the session (RFC 9700 §4.14.2). A provider's grace period
 * for the previous token closes that window; Auth0 has one.
 */
function rotationCheck(config: AuthConfig): Check {
  if (providerFacts(config).isAuth0) {
    return {
      name: 'Rotation grace period',
      outcome: 'warn',
      detail: 'Auth0 can accept the previous refresh token for a few seconds after rotating it; with 0 a crash between its answer and the keychain write ends the session',
      fix: 'Application → Settings → Refresh Token Rotation: set the Rotation Overlap Period (reuse interval) to about 10 seconds.',
    };
  }
  return { name: 'Rotation grace period', outcome: 'pass', detail: 'none needed from the provider: a rotated refresh token is stored as soon as it arrives, before the response is checked' };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
