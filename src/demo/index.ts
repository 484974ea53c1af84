import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../shared/logger.ts';
import { createDemoApiHandler } from './api/api.ts';
import { APP_ORIGIN, DEFAULT_DEMO_API_PORT, DEFAULT_DEMO_IDP_PORT } from '../shared/constants.ts';
import { defaultDemoDataDir } from './data-dir.ts';
import { FileStore } from './provider/file-adapter.ts';
import { answeringDemoProof, loadOrCreateDemoSecret } from './instance-proof.ts';
import { loadOrCreateKeys } from './provider/keys.ts';
import { createDemoProvider } from './provider/provider.ts';
import type { DemoDpop, DemoStats, TokenEndpointFailure } from './provider/provider.ts';

export { APP_ORIGIN, DEMO_AUDIENCE, DEMO_CLIENT_ID, DEMO_SCOPES } from '../shared/constants.ts';
export { DEMO_USERS } from './provider/accounts.ts';
export { defaultDemoDataDir } from './data-dir.ts';
export { DEMO_PROOF_PATH } from '../shared/constants.ts';
export { demoProof, isDemoProof, readDemoSecret } from './instance-proof.ts';
export type { DemoDpop, DemoStats, TokenEndpointFailure } from './provider/provider.ts';

export { DEFAULT_DEMO_API_PORT as DEFAULT_API_PORT, DEFAULT_DEMO_IDP_PORT as DEFAULT_IDP_PORT } from '../shared/constants.ts';

export interface DemoOptions {
  /** 0 picks a free port. Default 4400. */
  idpPort?: number;
  /** 0 picks a free port. Default 4401. */
  apiPort?: number;
  host?: '127.0.0.1';
  /** Serve the provider over https with this certificate (PEM), as a provider on the network would. Default: plain http on loopback. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The host name in the issuer URL when clients reach the provider by a name (DNS, a proxy) rather than by `host`. Default `host`. */
  issuerHost?: string;
  /** Keys, grants, sessions and refresh tokens live here. Default `defaultDemoDataDir()`. */
  dataDir?: string;
  /** Access token lifetime in seconds. Default 60. */
  accessTokenTtl?: number;
  /** Refresh token (and session, grant) lifetime in seconds. Default 14 days. */
  refreshTokenTtl?: number;
  /** How long a sign-in code (RFC 8628 device code) is good for, in seconds. Default 10 minutes (oidc-provider's). */
  deviceCodeTtl?: number;
  /** 'jwt' (default): `audience` selects the demo API and access tokens are JWTs for it. 'opaque': oidc-provider's default — opaque tokens for UserInfo, profile claims only there. */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** DPoP at the provider and the API (see `DemoDpop`): `on` by default; `nonce` makes both demand server nonces; `off` turns it off at the provider. */
  dpop?: DemoDpop;
  /** Origins the demo API answers CORS for. Default `[APP_ORIGIN]`. */
  allowedOrigins?: string[];
  logger?: Logger;
}

export interface DemoServers {
  /** e.g. http://127.0.0.1:4400 */
  issuer: string;
  /** e.g. http://127.0.0.1:4401 */
  apiUrl: string;
  stats: DemoStats;
  /** Test/demo hook: make the token endpoint fail: 'unavailable' → 503, 'html' → 200 text/html, 'hang' → never answers, null → normal. */
  failTokenEndpoint(mode: TokenEndpointFailure): void;
  close(): Promise<void>;
}

export type DemoService = 'provider' | 'api';

/** Thrown when a port the demo needs is taken; `code` is 'EADDRINUSE' like Node's own error. */
export class DemoPortInUseError extends Error {
  override name = 'DemoPortInUseError';
  readonly code = 'EADDRINUSE';
  readonly port: number;
  readonly service: DemoService;

  constructor(port: number, service: DemoService, options?: { cause?: unknown }) {
    const what = service === 'api' ? 'API' : 'identity provider';
    super(`Port ${port} on 127.0.0.1 is already in use, so the demo ${what} cannot start (is another demo provider running?).`, options);
    this.port = port;
    this.service = service;
  }
}

/**
 * Starts the demo OpenID provider and the demo API on 127.0.0.1. The provider's
 * port is bound first so its issuer URL is known before it is configured; both
 * keep their state in `dataDir`, so a restart on the same port keeps sessions.
 */
export async function startDemo(options: DemoOptions = {}): Promise<DemoServers> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir ?? defaultDemoDataDir();
  const { logger } = options;

  const idpServer = servingUnavailableUntilReady(options.tls);
  const apiServer = servingUnavailableUntilReady();
  const idpPort = await listen(idpServer.server, options.idpPort ?? DEFAULT_DEMO_IDP_PORT, host, 'provider');
  let apiPort: number;
  try {
    apiPort = await listen(apiServer.server, options.apiPort ?? DEFAULT_DEMO_API_PORT, host, 'api');
  } catch (error) {
    await closeServer(idpServer.server);
    throw error;
  }

  const issuer = `${options.tls ? 'https' : 'http'}://${options.issuerHost ?? host}:${idpPort}`;
  const apiUrl = `http://${host}:${apiPort}`;

  try {
    const keys = await loadOrCreateKeys(dataDir);
    const secret = await loadOrCreateDemoSecret(dataDir);
    const store = await FileStore.open(join(dataDir, 'store'), { logger });
    const demo = createDemoProvider(issuer, {
      store,
      keys,
      accessTokenTtl: options.accessTokenTtl ?? 60,
      refreshTokenTtl: options.refreshTokenTtl ?? 14 * 24 * 60 * 60,
      ...(options.accessTokenFormat ? { accessTokenFormat: options.accessTokenFormat } : {}),
      ...(options.dpop ? { dpop: options.dpop } : {}),
      ...(options.deviceCodeTtl ? { deviceCodeTtl: options.deviceCodeTtl } : {}),
      logger,
    });
    idpServer.ready(answeringDemoProof(secret, issuer, demo.provider.callback()));
    apiServer.ready(createDemoApiHandler({
      issuer,
      jwksUri: `${issuer}/jwks`,
      allowedOrigins: options.allowedOrigins ?? [APP_ORIGIN],
      apiUrl,
      requireDpopNonce: options.dpop === 'nonce',
      logger,
    }));
    logger?.info('demo provider started', { issuer, apiUrl, dataDir });

    let closing: Promise<void> | undefined;
    return {
      issuer,
      apiUrl,
      stats: demo.stats,
      failTokenEndpoint: (mode) => demo.failTokenEndpoint(mode),
      close() {
        closing ??= (async () => {
          await Promise.all([closeServer(idpServer.server), closeServer(apiServer.server)]);
          await store.flush();
        })();
        return closing;
      },
    };
  } catch (error) {
    await Promise.all([closeServer(idpServer.server), closeServer(apiServer.server)]);
    throw error;
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function servingUnavailableUntilReady(tls?: DemoOptions['tls']): { server: Server; ready(handler: Handler): void } {
  let handler: Handler = (_req, res) => {
    res.writeHead(503, { 'Retry-After': '1' }).end();
  };
  const server = tls ? createTlsServer(tls, (req, res) => handler(req, res)) : createServer((req, res) => handler(req, res));
  return { server, ready: (next) => { handler = next; } };
}

function listen(server: Server, port: number, host: string, service: DemoService): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new DemoPortInUseError(port, service, { cause: error }) : error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
