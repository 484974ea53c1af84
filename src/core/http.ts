import { Agent, EnvHttpProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { isLoopbackHost } from './config.ts';

export interface HttpClient {
  /** undici's fetch over this client's dispatchers; handed to openid-client as `customFetch`. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  /** Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or their lowercase forms) are read. */
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
}

/**
 * The HTTP transport of the auth core: undici with connect, headers and body
 * timeouts, so a provider that accepts a connection and then never answers
 * cannot hang a refresh. Requests honour `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`
 * like other desktop software behind a corporate proxy; loopback destinations
 * (the demo provider, a local IdP) always go direct, whatever `NO_PROXY` says.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const env = options.env ?? process.env;
  const agentOptions = {
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 15_000,
    bodyTimeout: options.bodyTimeoutMs ?? 15_000,
  };
  const direct = new Agent(agentOptions);
  const httpProxy = envProxy(env, 'http_proxy');
  const httpsProxy = envProxy(env, 'https_proxy');
  const viaProxy = httpProxy || httpsProxy
    ? new EnvHttpProxyAgent({ ...agentOptions, httpProxy, httpsProxy, noProxy: envProxy(env, 'no_proxy') })
    : direct;

  const dispatcherFor = (url: URL): Dispatcher => (isLoopbackHost(url.hostname) ? direct : viaProxy);

  const boundFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    // undici's Request/Response types differ nominally from the DOM ones Node declares; at runtime they are the same shape.
    return undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as object), dispatcher: dispatcherFor(url) }) as unknown as Promise<Response>;
  };

  return {
    fetch: boundFetch as typeof fetch,
    async close() {
      await Promise.all([direct.destroy(), viaProxy === direct ? undefined : viaProxy.destroy()]);
    },
  };
}

/** The variable's value, lowercase name first (curl's convention); '' when unset so undici does not fall back to process.env. */
function envProxy(env: NodeJS.ProcessEnv, lowercaseName: string): string {
  return env[lowercaseName] ?? env[lowercaseName.toUpperCase()] ?? '';
}
