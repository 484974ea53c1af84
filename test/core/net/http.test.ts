import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../../src/core/net/http.ts';

/** The target every request ends up at; it echoes the Host it was asked for. */
let target: Server;
let targetPort: number;
/** A forward proxy that counts what it forwards and sends everything to `target`. */
let proxy: Server;
let proxyUrl: string;
const forwarded: string[] = [];
/** Accepts connections and never answers. */
let silent: Server;
let silentPort: number;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  target = createServer((req, res) => res.end(`host=${req.headers.host}`));
  targetPort = await listen(target);
  proxy = createServer((req, res) => {
    forwarded.push(req.url ?? '');
    const upstream = request({ host: '127.0.0.1', port: targetPort, path: new URL(req.url ?? '/').pathname, headers: req.headers, method: req.method }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
  silent = createServer(() => {});
  silentPort = await listen(silent);
});

afterAll(async () => {
  for (const server of [target, proxy, silent]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('createHttpClient', () => {
  it('goes through HTTP_PROXY for a remote host', async () => {
    const http = createHttpClient({ env: { HTTP_PROXY: proxyUrl } });
    try {
      const before = forwarded.length;
      const response = await http.fetch('http://idp.example.invalid/.well-known/openid-configuration');
      expect(await response.text()).toBe('host=idp.example.invalid');
      expect(forwarded.slice(before)).toEqual(['http://idp.example.invalid/.well-known/openid-configuration']);
    } finally {
      await http.close();
    }
  });

  it('never sends loopback requests through the proxy, even without NO_PROXY', async () => {
    const http = createHttpClient({ env: { http_proxy: proxyUrl, HTTPS_PROXY: proxyUrl } });
    try {
      const before = forwarded.length;
      for (const host of ['127.0.0.1', 'localhost']) {
        const response = await http.fetch(`http://${host}:${targetPort}/x`);
        expect(await response.text()).toBe(`host=${host}:${targetPort}`);
      }
      expect(forwarded.length).toBe(before);
    } finally {
      await http.close();
    }
  });

  it('honours NO_PROXY for remote hosts', async () => {
    const http = createHttpClient({ env: { HTTP_PROXY: proxyUrl, NO_PROXY: '.example.invalid' } });
    try {
      const before = forwarded.length;
      // Direct, so the made-up name must fail to resolve instead of reaching the proxy.
      await expect(http.fetch('http://idp.example.invalid/')).rejects.toThrow(/fetch failed/);
      expect(forwarded.length).toBe(before);
    } finally {
      await http.close();
    }
  });

  it('ignores the process environment when an env is given', async () => {
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = proxyUrl;
    const http = createHttpClient({ env: {} });
    try {
      const before = forwarded.length;
      await expect(http.fetch('http://idp.example.invalid/')).rejects.toThrow(/fetch failed/);
      expect(forwarded.length).toBe(before);
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
      await http.close();
    }
  });

  it('gives up on a server that never sends headers', async () => {
    const http = createHttpClient({ env: {}, headersTimeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await http.fetch(`http://127.0.0.1:${silentPort}/`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(((error as Error).cause as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await http.close();
    }
  });
});
