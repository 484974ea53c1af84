import type { AuthConfig, Logger } from '../core/index.ts';
import { APP_ORIGIN } from '../shared/constants.ts';
import type { DemoOptions, DemoServers } from '../demo/index.ts';

export type DemoProbe = 'ours' | 'free' | 'taken';

/** What is listening at the demo issuer: a demo provider with that issuer, nothing, or something else. */
export async function probeDemoIssuer(issuer: string, fetchImpl: typeof fetch = fetch, timeoutMs = 2_000): Promise<DemoProbe> {
  let response: Response;
  try {
    response = await fetchImpl(new URL('.well-known/openid-configuration', issuer), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return isConnectionRefused(error) ? 'free' : 'taken';
  }
  try {
    const metadata = (await response.json()) as { issuer?: unknown };
    return response.ok && typeof metadata.issuer === 'string' && sameIssuer(metadata.issuer, issuer) ? 'ours' : 'taken';
  } catch {
    return 'taken';
  }
}

export class DemoPortTakenError extends Error {
  override name = 'DemoPortTakenError';
}

/**
 * With no provider configured, the app brings its own: the demo provider and
 * API, in-process, on the configured loopback ports — unless one is already
 * answering there (`npm run idp` in another terminal), which is then used as is.
 * Returns the servers it started (to close on quit), or undefined when it reused one.
 */
export async function ensureDemoProvider(
  config: Pick<AuthConfig, 'issuer'> & { demoPorts: NonNullable<AuthConfig['demoPorts']> },
  deps: { startDemo: (options: DemoOptions) => Promise<DemoServers>; dataDir?: string; fetch?: typeof fetch; logger?: Logger },
): Promise<DemoServers | undefined> {
  const probe = await probeDemoIssuer(config.issuer, deps.fetch);
  if (probe === 'ours') {
    deps.logger?.info('using the demo provider already running', { issuer: config.issuer });
    return undefined;
  }
  const { idp: idpPort, api: apiPort } = config.demoPorts;
  if (probe === 'taken') {
    throw new DemoPortTakenError(
      `Port ${idpPort} on 127.0.0.1 is used by another program, so the demo sign-in provider cannot start there. ` +
        'Stop that program, or set DEMO_IDP_PORT and DEMO_API_PORT to free ports, then start Latchkey again.',
    );
  }
  try {
    const servers = await deps.startDemo({
      idpPort,
      apiPort,
      host: '127.0.0.1',
      // The demo's own folder unless told otherwise, shared with `npm run idp`, so sessions survive switching between them.
      ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
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

function isConnectionRefused(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  }
  return false;
}

function sameIssuer(a: string, b: string): boolean {
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}
