// The app's proxy resolver (electron mocked: a stand-in for session.defaultSession
// answering what Chromium's resolveProxy would) driving the core's real transport
// against a real CONNECT/forward proxy and a real server.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../../src/core/index.ts';
import { systemProxyResolver } from '../../../src/main/network/system-proxy.ts';
import { startTestProxy, type TestProxy } from '../../helpers/test-proxy.ts';

const HOST = 'idp.latchkey.test';

describe('the system proxy resolver (electron mocked)', () => {
  let target: Server;
  let targetPort: number;
  let proxy: TestProxy;
  /** A port nothing listens on: a proxy that is down. */
  let downPort: number;
  /** Every TCP connection undici opened, as host:port. */
  const connections: string[] = [];
  const onConnect = (message: unknown) => {
    const { connectParams } = message as { connectParams: { hostname: string; port: string } };
    connections.push(`${connectParams.hostname}:${connectParams.port}`);
  };
  const clients: HttpClient[] = [];

  beforeAll(async () => {
    target = createServer((req, res) => res.end(`host=${req.headers.host}`));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as AddressInfo).port;
    proxy = await startTestProxy({ hosts: { [HOST]: '127.0.0.1' } });
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    downPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    subscribe('undici:client:beforeConnect', onConnect);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    unsubscribe('undici:client:beforeConnect', onConnect);
    await proxy?.close();
    target?.closeAllConnections();
    await new Promise((resolve) => target?.close(resolve));
  });

  /** The transport the app builds: the resolver over a stand-in for Electron's session, and no proxy variables. */
  function appTransport(answer: string, asked: string[] = []): HttpClient {
    const session = {
      resolveProxy: async (url: string) => {
        asked.push(url);
        return answer;
      },
    };
    const client = createHttpClient({ env: {}, resolveProxy: systemProxyResolver(session) });
    clients.push(client);
    return client;
  }

  const targetUrl = () => `http://${HOST}:${targetPort}/.well-known/openid-configuration`;

  it('honours "PROXY a:1; DIRECT": the request goes through the proxy the OS names, which alone knows the host', async () => {
    const asked: string[] = [];
    const http = appTransport(`PROXY 127.0.0.1:${proxy.port}; DIRECT`, asked);
    const before = proxy.log.length;
    connections.length = 0;
    const response = await http.fetch(targetUrl());
    expect(await response.text()).toBe(`host=${HOST}:${targetPort}`);
    expect(asked).toEqual([targetUrl()]);
    expect(proxy.log.slice(before)).toEqual([expect.objectContaining({ method: 'GET', host: HOST, port: targetPort })]);
    expect(connections).toEqual([`127.0.0.1:${proxy.port}`]);
    expect(await http.planRoute(targetUrl())).toMatchObject({ source: 'system', routes: [{ kind: 'proxy', uri: `http://127.0.0.1:${proxy.port}` }, { kind: 'direct' }] });
  });

  it('falls through "PROXY a:1; PROXY b:2" in order when a:1 cannot be connected', async () => {
    const http = appTransport(`PROXY 127.0.0.1:${downPort}; PROXY 127.0.0.1:${proxy.port}`);
    const before = proxy.log.length;
    connections.length = 0;
    expect(await (await http.fetch(targetUrl())).text()).toBe(`host=${HOST}:${targetPort}`);
    expect(connections).toEqual([`127.0.0.1:${downPort}`, `127.0.0.1:${proxy.port}`]);
    expect(proxy.log.length).toBe(before + 1);
  });

  it('honours "DIRECT": straight to the host, never to a proxy — here a name only the proxy can resolve, so it fails', async () => {
    const http = appTransport('DIRECT');
    const before = proxy.log.length;
    connections.length = 0;
    const error = await http.fetch(targetUrl()).catch((failure: unknown) => failure);
    expect(String((error as Error).cause)).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(connections).toEqual([`${HOST}:${targetPort}`]);
    expect(proxy.log.length).toBe(before);
  });

  it('"PROXY a:1; DIRECT" with a:1 down goes direct', async () => {
    const http = appTransport(`PROXY 127.0.0.1:${downPort}; DIRECT`);
    connections.length = 0;
    await http.fetch(targetUrl()).catch(() => undefined);
    expect(connections).toEqual([`127.0.0.1:${downPort}`, `${HOST}:${targetPort}`]);
  });

  it('lets proxy variables win over the OS, and never asks the OS about loopback', async () => {
    const asked: string[] = [];
    const session = { resolveProxy: async (url: string) => (asked.push(url), `PROXY 127.0.0.1:${downPort}`) };
    const http = createHttpClient({ env: { HTTP_PROXY: proxy.url }, resolveProxy: systemProxyResolver(session) });
    clients.push(http);
    expect(await (await http.fetch(targetUrl())).text()).toBe(`host=${HOST}:${targetPort}`);
    expect(await (await http.fetch(`http://127.0.0.1:${targetPort}/`)).text()).toBe(`host=127.0.0.1:${targetPort}`);
    expect(asked).toEqual([]);
    expect(await http.planRoute(targetUrl())).toMatchObject({ source: 'env', variable: 'HTTP_PROXY' });
  });
});
