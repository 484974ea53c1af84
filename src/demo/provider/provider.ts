import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import type { Configuration, KoaContext, ResourceServerInfo } from 'oidc-provider';
import type { Logger } from '../../shared/logger.ts';
import { demoUserClaims, findDemoUser } from './accounts.ts';
import { DEMO_ACR_PASSWORD, DEMO_ACR_TWO_STEP, DEMO_AUDIENCE, DEMO_CLIENT_ID, DEMO_FILES_RESOURCE, DEMO_SCOPES } from '../../shared/constants.ts';
import type { FileStore } from './file-adapter.ts';
import { readForm } from './form.ts';
import { interactionRoutes } from './interactions.ts';
import type { ProviderKeys } from './keys.ts';
import { renderErrorPage, renderLogoutPage, renderSignedOutPage } from './pages.ts';

export type TokenEndpointFailure = 'unavailable' | 'html' | 'hang' | null;

/**
 * DPoP (RFC 9449) at the demo: `on` (the default) is oidc-provider's stock feature — it lists
 * `dpop_signing_alg_values_supported`, binds tokens to the key of a proof, and hands out nonces
 * without demanding them; `nonce` demands a server nonce in every proof (RFC 9449 §8), as Okta
 * does; `off` turns the feature off, a provider without DPoP.
 */
export type DemoDpop = 'on' | 'nonce' | 'off';

export interface DemoStats {
  tokenRequests: number;
  tokenRequestsByGrant: Record<string, number>;
  reuseDetected: number;
}

export interface DemoProvider {
  provider: Provider;
  stats: DemoStats;
  failTokenEndpoint(mode: TokenEndpointFailure): void;
}

const TOKEN_PATH = '/token';
/** Like Auth0's default absolute refresh token lifetime. */
const MAX_SIGN_IN_AGE = 30 * 24 * 60 * 60;
const REFRESH_TOKEN_REUSED = 'refresh token already used';

/**
 * The demo OpenID provider, set up the way an Auth0 tenant is for a native app:
 * one public client with PKCE S256, loopback redirects on any port (RFC 8252 §7.3),
 * rotating refresh tokens whose reuse revokes the grant (RFC 9700 §4.14.2), and
 * Auth0's `audience` parameter mapped to an RFC 8707 resource indicator so access
 * tokens are JWTs for the demo API. A second API (the file store, `DEMO_FILES_RESOURCE`)
 * is a second resource server of oidc-provider's stock resource indicators feature: a
 * client names both resources in the authorization request and gets a token for either
 * on each refresh (RFC 8707 §2.1, §2.2). Like any stock oidc-provider it issues a
 * refresh token only when `offline_access` comes with `prompt=consent`
 * (OpenID Connect Core §11); it never rewrites a request.
 *
 * Sign-in with a code (the device authorization grant, RFC 8628) is on, as
 * Auth0 offers it to native apps, with oidc-provider's stock pages.
 *
 * `accessTokenFormat: 'opaque'` is oidc-provider's own default: `audience` is
 * not mapped to a resource, so access tokens are opaque and for UserInfo, and
 * ID tokens carry only what OpenID Connect Core §5.4 puts there (no profile or
 * email claims: a client finds them in UserInfo).
 */
export function createDemoProvider(issuer: string, options: {
  store: FileStore;
  keys: ProviderKeys;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  accessTokenFormat?: 'jwt' | 'opaque';
  dpop?: DemoDpop;
  deviceCodeTtl?: number;
  logger?: Logger;
}): DemoProvider {
  const { store, keys, accessTokenTtl, refreshTokenTtl, logger } = options;
  const opaque = options.accessTokenFormat === 'opaque';
  const stats: DemoStats = { tokenRequests: 0, tokenRequestsByGrant: {}, reuseDetected: 0 };
  let failure: TokenEndpointFailure = null;

  const resourceServer: ResourceServerInfo = {
    scope: DEMO_SCOPES.join(' '),
    audience: DEMO_AUDIENCE,
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtl,
    jwt: { sign: { alg: 'RS256' } },
  };
  // The second API, a file store: its own audience, so a token for one API is refused by the other.
  const resourceServers: Record<string, ResourceServerInfo> = { [DEMO_AUDIENCE]: resourceServer, [DEMO_FILES_RESOURCE]: { ...resourceServer, audience: DEMO_FILES_RESOURCE } };

  const configuration: Configuration = {
    adapter: (name) => store.adapterFor(name),
    clients: [{
      client_id: DEMO_CLIENT_ID,
      client_name: 'Latchkey',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
    }],
    jwks: keys.jwks,
    cookies: { keys: keys.cookieKeys },
    scopes: [...DEMO_SCOPES],
    claims: { openid: ['sub'], profile: ['name', 'picture'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: opaque,
    clockTolerance: 5,
    extraParams: ['audience'],
    // How strongly the user signed in: a password, or a password and a one-time code (the sign-in page's second step).
    acrValues: [DEMO_ACR_PASSWORD, DEMO_ACR_TWO_STEP],
    // RFC 9068 §2.2.1: the access token says how and when the user signed in (acr, auth_time), so an API can ask for more (RFC 9470).
    extraTokenClaims(ctx: KoaContext, token: { kind: string }) {
      if (token.kind !== 'AccessToken') return undefined;
      const entities = ctx.oidc?.entities as Record<string, { acr?: string; authTime?: number } | undefined> | undefined;
      const signIn = entities?.AuthorizationCode ?? entities?.RefreshToken ?? entities?.DeviceCode;
      return signIn ? { ...(signIn.acr ? { acr: signIn.acr } : {}), ...(signIn.authTime ? { auth_time: signIn.authTime } : {}) } : undefined;
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Set explicitly: a DPoP-bound refresh token of a public client rotates at every use like any other.
    rotateRefreshToken: true,
    issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    async findAccount(_ctx, sub) {
      const user = findDemoUser(sub);
      if (!user) return undefined;
      return { accountId: user.login, claims: () => demoUserClaims(user) };
    },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl ?? 10 * 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      // A rotated refresh token gets a fresh lifetime (an idle timeout); the
      // grant and browser session bound how long a sign-in can be kept alive.
      RefreshToken: refreshTokenTtl,
      Session: Math.max(refreshTokenTtl, MAX_SIGN_IN_AGE),
      Grant: Math.max(refreshTokenTtl, MAX_SIGN_IN_AGE),
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      dPoP: {
        enabled: options.dpop !== 'off',
        // Nonces are short-lived (a minute or two); a new secret at each start only means one use_dpop_nonce round trip.
        nonceSecret: randomBytes(32),
        requireNonce: () => options.dpop === 'nonce',
      },
      // Sign-in with a code (RFC 8628), with oidc-provider's stock user-code and confirmation pages;
      // the sign-in and consent in between are the demo's own interaction pages, as for a browser sign-in.
      deviceFlow: { enabled: true },
      // Auth0 has no pushed authorization requests on ordinary tenants.
      pushedAuthorizationRequests: { enabled: false },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only its own tokens.
        allowedPolicy: (_ctx: KoaContext, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx: KoaContext, form: string) {
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = renderLogoutPage(form);
        },
        postLogoutSuccessSource(ctx: KoaContext) {
          ctx.type = 'text/html; charset=utf-8';
          ctx.body = renderSignedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource(ctx: KoaContext, _client: unknown, oneOf?: string[]) {
          if (oneOf) return oneOf.includes(DEMO_AUDIENCE) ? DEMO_AUDIENCE : oneOf[0];
          const audience = ctx.oidc?.params?.audience;
          return !opaque && typeof audience === 'string' && audience ? audience : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx: KoaContext, indicator: string) {
          const server = resourceServers[indicator];
          if (!server) throw new errors.InvalidTarget!();
          return server;
        },
      },
    },
    // The app talks to the provider from its main process, never from a page.
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = 'text/html; charset=utf-8';
      const description = typeof out.error_description === 'string' ? out.error_description : 'The request could not be completed.';
      ctx.body = renderErrorPage(typeof out.error === 'string' ? out.error : 'Error', description);
    },
  };

  const provider = new Provider(issuer, configuration);

  provider.on('grant.error', (ctx: KoaContext, error: Error & { error_detail?: string }) => {
    if (error.error_detail === REFRESH_TOKEN_REUSED) {
      stats.reuseDetected += 1;
      logger?.warn('demo provider: a rotated refresh token was reused; the grant is revoked', { client: ctx.oidc?.client?.clientId });
    }
  });
  provider.on('server_error', (_ctx: KoaContext, error: Error) => {
    logger?.error('demo provider: server error', { error: String(error) });
  });

  provider.use(async (ctx, next) => {
    if (ctx.path !== TOKEN_PATH || ctx.method !== 'POST') return next();
    stats.tokenRequests += 1;
    if (failure) {
      const mode = failure;
      count(stats, (await readForm(ctx.req))?.get('grant_type'));
      await failTokenRequest(ctx, mode);
      return;
    }
    await next();
    count(stats, ctx.oidc?.params?.grant_type);
  });
  provider.use(interactionRoutes(provider, {
    clientName: (clientId) => (clientId === DEMO_CLIENT_ID ? 'Latchkey' : clientId ?? 'an application'),
    logger,
  }));

  return {
    provider,
    stats,
    failTokenEndpoint(mode) {
      failure = mode;
    },
  };
}

function count(stats: DemoStats, grantType: unknown): void {
  const key = typeof grantType === 'string' && grantType ? grantType : 'unknown';
  stats.tokenRequestsByGrant[key] = (stats.tokenRequestsByGrant[key] ?? 0) + 1;
}

async function failTokenRequest(ctx: KoaContext, mode: Exclude<TokenEndpointFailure, null>): Promise<void> {
  switch (mode) {
    case 'unavailable':
      ctx.status = 503;
      ctx.set('Retry-After', '1');
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'Service Unavailable';
      return;
    case 'html':
      ctx.status = 200;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = '<!doctype html><html><head><title>Sign in to the network</title></head><body><h1>Wi-Fi sign-in required</h1></body></html>';
      return;
    case 'hang':
      await new Promise<void>((resolve) => ctx.req.socket.once('close', () => resolve()));
      ctx.respond = false;
      return;
  }
}
