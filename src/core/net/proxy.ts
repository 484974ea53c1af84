import { isLoopbackHost } from '../config/values.ts';

/**
 * The proxy for a URL, as the OS would use it: Electron's
 * `session.resolveProxy(url)`, which follows the system settings, PAC files and
 * WPAD, answering a PAC result such as `"PROXY proxy.corp:8080; DIRECT"`.
 */
export type ProxyResolver = (url: string) => Promise<string>;

/** Where the way to a host came from: proxy variables, the OS (settings, PAC, WPAD), or nowhere (direct). */
export type ProxySource = 'env' | 'system' | 'none';

export type ProxyRoute = { kind: 'direct' } | { kind: 'proxy'; uri: string };

/** The ways to try, in order, for one URL, and why these. */
export interface RoutePlan {
  source: ProxySource;
  routes: ProxyRoute[];
  /** The variable the proxy came from (`HTTPS_PROXY`, …) or that sent the host direct (`NO_PROXY`). */
  variable?: string;
  /** PAC entries Latchkey cannot use (SOCKS4, QUIC), skipped. */
  skipped?: string[];
  /** Why the request goes direct when it does not follow the source: loopback. */
  note?: string;
}

export interface RoutePlanOptions {
  env: NodeJS.ProcessEnv;
  resolveProxy?: ProxyResolver | undefined;
}

/**
 * Which way a request to `url` goes. Loopback always goes direct (the demo, a
 * local IdP, the RFC 8252 redirect listener's own host). Otherwise proxy
 * variables win when any is set — `NO_PROXY` included, like curl — and the OS's
 * answer (`resolveProxy`) is used only without them; with neither, direct.
 */
export async function planRoutes(url: URL, options: RoutePlanOptions): Promise<RoutePlan> {
  if (isLoopbackHost(url.hostname)) return { source: 'none', routes: [{ kind: 'direct' }], note: 'loopback always goes direct' };
  const fromEnv = envPlan(url, options.env);
  if (fromEnv) return fromEnv;
  if (options.resolveProxy) {
    let answer: string;
    try {
      answer = await options.resolveProxy(url.href);
    } catch (error) {
      // Like Chromium when a PAC script fails: go direct rather than not at all.
      return { source: 'system', routes: [{ kind: 'direct' }], note: `the OS proxy lookup failed (${error instanceof Error ? error.message : String(error)}), so direct` };
    }
    const { routes, skipped } = parsePacResult(answer);
    return { source: 'system', routes, ...(skipped.length > 0 ? { skipped } : {}) };
  }
  return { source: 'none', routes: [{ kind: 'direct' }] };
}

/**
 * A PAC result (`PROXY a:1; HTTPS b:2; DIRECT`) as routes in order. `PROXY` and
 * `HTTP` are http proxies, `HTTPS` a proxy spoken to over TLS, `SOCKS`/`SOCKS5`
 * a SOCKS5 proxy; `SOCKS4` and `QUIC` cannot be used and are skipped. An empty
 * result means direct.
 */
export function parsePacResult(result: string): { routes: ProxyRoute[]; skipped: string[] } {
  const routes: ProxyRoute[] = [];
  const skipped: string[] = [];
  for (const entry of result.split(';').map((part) => part.trim()).filter(Boolean)) {
    const [keyword = '', hostPort] = entry.split(/\s+/, 2);
    const scheme = PAC_SCHEMES[keyword.toUpperCase()];
    if (keyword.toUpperCase() === 'DIRECT') routes.push({ kind: 'direct' });
    else if (scheme && hostPort && URL.canParse(`${scheme}//${hostPort}`)) routes.push({ kind: 'proxy', uri: `${scheme}//${hostPort}` });
    else skipped.push(entry);
  }
  return { routes: routes.length > 0 || skipped.length > 0 ? routes : [{ kind: 'direct' }], skipped };
}

const PAC_SCHEMES: Record<string, string> = { PROXY: 'http:', HTTP: 'http:', HTTPS: 'https:', SOCKS: 'socks5:', SOCKS5: 'socks5:' };

/** A proxy URI as it may be shown or logged: scheme, host and port, never the credentials in it. */
export function displayProxy(uri: string): string {
  const url = new URL(uri);
  return `${url.protocol}//${url.host}`;
}

/** Whether a proxy URI carries credentials (user:password@). */
export function hasCredentials(uri: string): boolean {
  const url = new URL(uri);
  return url.username !== '' || url.password !== '';
}

function envPlan(url: URL, env: NodeJS.ProcessEnv): RoutePlan | undefined {
  const http = envVariable(env, 'http_proxy');
  const https = envVariable(env, 'https_proxy');
  if (!http && !https) return undefined;
  const noProxy = envVariable(env, 'no_proxy');
  if (noProxy && matchesNoProxy(url, noProxy.value)) return { source: 'env', routes: [{ kind: 'direct' }], variable: noProxy.name };
  const chosen = url.protocol === 'https:' ? (https ?? http) : http;
  if (!chosen) return { source: 'none', routes: [{ kind: 'direct' }] };
  return { source: 'env', routes: [{ kind: 'proxy', uri: withScheme(chosen.value) }], variable: chosen.name };
}

/** The variable's value and name as set, lowercase first (curl's convention); undefined when unset or empty. */
function envVariable(env: NodeJS.ProcessEnv, lowercaseName: string): { name: string; value: string } | undefined {
  for (const name of [lowercaseName, lowercaseName.toUpperCase()]) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/** `proxy.corp:8080` is taken to mean `http://proxy.corp:8080`, as curl does. */
function withScheme(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

/** NO_PROXY as curl and undici read it: `*`, or names matching the host or a parent domain (`.corp` or `corp`), optionally with a port. */
function matchesNoProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const entry of noProxy.split(/[\s,]+/).filter(Boolean)) {
    if (entry === '*') return true;
    // A port follows a name, an IPv4 address or a [bracketed] IPv6 address; a bare IPv6 address has none.
    const [, name = entry, entryPort] = /^(\[.*\]|[^:]+)(?::(\d+))?$/.exec(entry) ?? [];
    if (entryPort && entryPort !== port) continue;
    const domain = name.replace(/^\*?\./, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}
