import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Server } from 'proxy-chain';

export interface ProxyLogEntry {
  /** CONNECT for a tunnel (https), else the forwarded request's method. */
  method: string;
  /** The host the client asked for — all a CONNECT proxy sees of an https request. */
  host: string;
  port: number;
  /** The user name in Proxy-Authorization ('' without one). */
  user: string;
  /** 407 when the proxy asked for credentials instead. */
  status: 200 | 407;
}

export interface TestProxy {
  /** http://127.0.0.1:PORT, without credentials. */
  url: string;
  port: number;
  log: ProxyLogEntry[];
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /** Names only this proxy resolves, e.g. `{ 'idp.latchkey.test': '127.0.0.1' }`, so the client cannot go around it. */
  hosts?: Record<string, string>;
  /** When given, the proxy answers 407 to a request without one of these user/password pairs. */
  users?: Record<string, string>;
}

/**
 * A forward proxy with CONNECT tunnels (proxy-chain, like a company's), on
 * 127.0.0.1, that logs every request it is asked to make and can demand Basic
 * proxy credentials (RFC 9110 §11.7.1).
 */
export async function startTestProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const log: ProxyLogEntry[] = [];
  const hosts = options.hosts ?? {};
  const lookup = (hostname: string, lookupOptions: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    const address = hosts[hostname.toLowerCase()];
    if (address === undefined) return systemLookup(hostname, { ...lookupOptions, all: Boolean(lookupOptions.all) }, callback as never);
    if (lookupOptions.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
  const server = new Server({
    port: 0,
    host: '127.0.0.1',
    prepareRequestFunction: ({ request, hostname, port, username, password }) => {
      const authorized = !options.users || (Object.hasOwn(options.users, username) && options.users[username] === password);
      log.push({ method: request.method ?? '', host: hostname, port, user: username, status: authorized ? 200 : 407 });
      if (!authorized) return { requestAuthentication: true, failMsg: 'Proxy credentials required.' };
      return { dnsLookup: lookup as never };
    },
  });
  await server.listen();
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    log,
    close: () => server.close(true),
  };
}
