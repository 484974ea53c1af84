import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { AuthError } from '../errors.ts';
import { displayProxy, hasCredentials, planRoutes, type ProxyResolver, type ProxyRoute, type RoutePlan } from './proxy.ts';
import { certificateErrorCode, certificateUntrusted, createTrustStore, inspectCertificate, type TlsReport, type TrustSettings } from './tls.ts';

export interface HttpClient {
  /** undici's fetch over this client's routes; handed to openid-client as `customFetch`. */
  fetch: typeof fetch;
  /** Which way a request to `url` goes and where that came from (env, the OS, none): for `doctor`. */
  planRoute(url: string | URL): Promise<RoutePlan>;
  /** A TLS handshake with `url`'s host over the route requests take, and the certificate shown: for `doctor`. */
  inspectTls(url: string | URL): Promise<TlsReport>;
  close(): Promise<void>;
}

export interface HttpClientOptions extends TrustSettings {
  /** Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (or their lowercase forms) are read. */
  env?: NodeJS.ProcessEnv;
  /** The OS's proxy for a URL (the app: Electron's `resolveProxy`); used when no proxy variable is set. */
  resolveProxy?: ProxyResolver;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  clock?: () => number;
}

/** Failures that mean "this route was never connected", so the next route in a PAC list may be tried. */
const UNCONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * The HTTP transport of the auth core: undici with connect, headers and body
 * timeouts, so a provider that accepts a connection and then never answers
 * cannot hang a refresh. Each request takes the route `planRoutes` names —
 * proxy variables, else the OS's proxy (settings, PAC, WPAD) through
 * `resolveProxy`, trying a PAC list's entries in order while one cannot be
 * connected; loopback always direct. TLS is always verified, whatever
 * NODE_TLS_REJECT_UNAUTHORIZED says, against Node's roots, the OS's store and
 * the configured extra roots (`createTrustStore`). A proxy's 407 and a refused certificate become AuthErrors that
 * say what to do (`proxy_auth_required`, `certificate_untrusted`): neither is
 * retried, since trying again cannot fix them.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const env = options.env ?? process.env;
  const clock = options.clock ?? Date.now;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const timeouts = { headersTimeout: options.headersTimeoutMs ?? 15_000, bodyTimeout: options.bodyTimeoutMs ?? 15_000 };
  const trust = createTrustStore(options);
  const dispatchers = new Map<string, Dispatcher>();

  /** One dispatcher per route and per need of TLS: plain-http loopback never reads the trust store. */
  const dispatcherFor = (route: ProxyRoute, url: URL): Dispatcher => {
    const proxyUri = route.kind === 'proxy' ? route.uri : undefined;
    const tlsNeeded = url.protocol === 'https:' || proxyUri?.startsWith('https:') === true;
    const key = `${proxyUri ?? 'direct'} ${tlsNeeded}`;
    let dispatcher = dispatchers.get(key);
    if (!dispatcher) {
      // Verification is stated, not left to Node's default, which NODE_TLS_REJECT_UNAUTHORIZED=0 turns off.
      const connect = { timeout: connectTimeoutMs, rejectUnauthorized: true, ...(tlsNeeded ? { secureContext: trust() } : {}) };
      dispatcher = proxyUri
        ? new ProxyAgent({ ...timeouts, uri: proxyUri, connectTimeout: connectTimeoutMs, requestTls: connect, proxyTls: connect })
        : new Agent({ ...timeouts, connect });
      dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  };

  const plan = (url: URL) => planRoutes(url, { env, resolveProxy: options.resolveProxy });

  /** A 407 or a refused certificate as the sentence that names its cause; undefined for anything else. */
  const explain = async (error: unknown, url: URL, route: ProxyRoute, routes: RoutePlan): Promise<AuthError | undefined> => {
    if (route.kind === 'proxy' && isProxyAuthFailure(error)) return proxyAuthRequired(route.uri, routes, { cause: error });
    const certificateCode = certificateErrorCode(error);
    if (certificateCode) {
      const report = await inspectCertificate(url, route, trust(), connectTimeoutMs).catch(() => undefined);
      return certificateUntrusted(url, certificateCode, report, clock, { cause: error, packaged: options.packaged });
    }
    return undefined;
  };

  const boundFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const routes = await plan(url);
    if (routes.routes.length === 0) throw noUsableProxy(url, routes);
    for (const [index, route] of routes.routes.entries()) {
      try {
        // undici's Request/Response types differ nominally from the DOM ones Node declares; at runtime they are the same shape.
        const response = (await undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as object), dispatcher: dispatcherFor(route, url) })) as unknown as Response;
        // A plain-http request through a forward proxy gets the proxy's own 407 as its answer.
        if (response.status === 407 && route.kind === 'proxy') {
          await response.body?.cancel();
          throw proxyAuthRequired(route.uri, routes);
        }
        return response;
      } catch (error) {
        if (error instanceof AuthError) throw error;
        const explained = await explain(error, url, route, routes);
        if (explained) throw explained;
        if (index === routes.routes.length - 1 || !wasNeverConnected(error)) throw error;
      }
    }
    throw new Error('unreachable: every route either answered or threw');
  };

  return {
    fetch: boundFetch as typeof fetch,
    planRoute: (url) => plan(new URL(url)),
    async inspectTls(target) {
      const url = new URL(target);
      const routes = await plan(url);
      const [route] = routes.routes;
      if (!route) throw noUsableProxy(url, routes);
      try {
        return await inspectCertificate(url, route, trust(), connectTimeoutMs);
      } catch (error) {
        if (route.kind === 'proxy' && isProxyAuthFailure(error)) throw proxyAuthRequired(route.uri, routes, { cause: error });
        throw error;
      }
    },
    async close() {
      await Promise.all([...dispatchers.values()].map((dispatcher) => dispatcher.destroy()));
      dispatchers.clear();
    },
  };
}

function isProxyAuthFailure(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    // undici says so in the message only: "Proxy response (407) !== 200 when HTTP Tunneling", "Proxy Authentication Required (407)".
    if (/\(407\)/.test(current.message) || (current as { statusCode?: unknown }).statusCode === 407) return true;
  }
  return false;
}

function wasNeverConnected(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Object && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNCONNECTED_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The proxy wants a sign-in (RFC 9110 §15.5.8). Latchkey answers no auth
 * challenge itself: credentials come only from the proxy URL, and neither they
 * nor the URL with them are ever logged or shown.
 */
function proxyAuthRequired(proxyUri: string, routes: RoutePlan, options: { cause?: unknown } = {}): AuthError {
  const proxy = displayProxy(proxyUri);
  const where = routes.source === 'env' ? `set in ${routes.variable ?? 'HTTPS_PROXY'}` : "from this computer's proxy settings";
  const example = `HTTPS_PROXY=${new URL(proxy).protocol}//USER:PASSWORD@${new URL(proxy).host}`;
  const message = hasCredentials(proxyUri)
    ? `The proxy ${proxy} (${where}) refused the user name and password given for it (HTTP 407 Proxy Authentication Required). Check them in ${routes.variable ?? 'HTTPS_PROXY'} (${example}; percent-encode special characters).`
    : `The proxy ${proxy} (${where}) asks for a sign-in (HTTP 407 Proxy Authentication Required). Give Latchkey its credentials in the proxy URL: ${example} (percent-encode special characters; they are never logged).`;
  return new AuthError('proxy_auth_required', message, options);
}

function noUsableProxy(url: URL, routes: RoutePlan): AuthError {
  return new AuthError(
    'provider_unreachable',
    `This computer's proxy settings name no proxy Latchkey can use for ${url.host} (${(routes.skipped ?? []).join('; ')}). Set HTTPS_PROXY to an http(s) proxy.`,
  );
}
