import { probeDemoProvider, type AuthConfig, type Logger } from '../../core/index.ts';


import { APP_ORIGIN } from '../../shared/constants.ts';
import { defaultDemoDataDir, startDemo } from '../../demo/index.ts';
import type { DemoOptions, DemoServers } from '../../demo/index.ts';

/**
 * In development with no provider configured: the demo provider, started here
 * or reused when it proves it is ours. A packaged app never starts or reuses
 * it, and `npm run dist` builds replace this module with no-demo.ts, so the
 * demo's code and oidc-provider are not even in the bundle.
 */
export async function startDevelopmentDemo(config: AuthConfig, deps: { isPackaged: boolean; logger: Logger; env?: NodeJS.ProcessEnv }): Promise<DemoServers | undefined> {
  if (deps.isPackaged || !config.demoPorts) return undefined;
  const dataDir = (deps.env ?? process.env).DEMO_DATA_DIR;
  return ensureDemoProvider({ issuer: config.issuer, demoPorts: config.demoPorts }, { startDemo, logger: deps.logger, ...(dataDir ? { dataDir } : {}) });
}

export class DemoPortTakenError extends Error {
  override name = 'DemoPortTakenError';
}

/**
 * In development with no provider configured, the app brings its own: the
 * demo provider and API, in-process, on the configured loopback ports — unless
 * our demo is already answering there (`npm run idp` in another terminal, with
 * the same data folder), which is then used as is. Anything else on the port
 * is refused, never used as the identity provider. Returns the servers it
 * started (to close on quit), or undefined when it reused one.
 */
export async function ensureDemoProvider(
  config: Pick<AuthConfig, 'issuer'> & { demoPorts: NonNullable<AuthConfig['demoPorts']> },
  deps: { startDemo: (options: DemoOptions) => Promise<DemoServers>; dataDir?: string; fetch?: typeof fetch; logger?: Logger },
): Promise<DemoServers | undefined> {
  const dataDir = deps.dataDir ?? defaultDemoDataDir();
  const probe = await probeDemoProvider(config.issuer, dataDir, deps.fetch);
  if (probe === 'ours') {
    deps.logger?.info('using the demo provider already running', { issuer: config.issuer });
    return undefined;
  }
  const { idp: idpPort, api: apiPort } = config.demoPorts;
  if (probe === 'taken') {
    throw new DemoPortTakenError(
      `Port ${idpPort} on 127.0.0.1 is used by a program that is not Latchkey's demo provider (it could not prove it holds the secret in ${dataDir}), ` +
        'so the demo sign-in provider cannot start there and that program is not used. Stop it, or set DEMO_IDP_PORT and DEMO_API_PORT to free ports, ' +
        'then start Latchkey again. If it is `npm run idp` with another DEMO_DATA_DIR, give the app the same DEMO_DATA_DIR.',
    );
  }
  try {
    const servers = await deps.startDemo({
      idpPort,
      apiPort,
      host: '127.0.0.1',
      // The demo's own folder unless told otherwise, shared with `npm run idp`, so sessions survive switching between them.
      dataDir,
      allowedOrigins: [APP_ORIGIN],
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    deps.logger?.info('started the demo provider', { issuer: servers.issuer, api: servers.apiUrl });
    return servers;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new DemoPortTakenError(
        `Port ${idpPort} or ${apiPort} on 127.0.0.1 is used by another program, so the demo provider cannot start. ` +
          'Stop that program, or set DEMO_IDP_PORT and DEMO_API_PORT to free ports, then start Latchkey again.',
        { cause: error },
      );
    }
    throw error;
  }
}

