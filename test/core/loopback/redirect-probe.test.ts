// How the pre-flight reads an authorization endpoint's answer to a redirect
// URI, against a local endpoint that answers the way real providers do
// (Glewlwyd and oidc-provider themselves are asked in test/interop and test/cli).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { probeRedirectUri, redirectRefusedMessage } from '../../../src/core/loopback/redirect-probe.ts';

const CONFIG = { clientId: 'native-app', scope: 'openid offline_access', prompt: 'consent' };
const REDIRECT = 'http://127.0.0.1:49152/callback';

describe('probeRedirectUri', () => {
  let server: Server;
  let endpoint: string;
  let http: HttpClient;
  let answer: (query: URLSearchParams) => { status: number; location?: string };
  const asked: URLSearchParams[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      asked.push(query);
      const { status, location } = answer(query);
      res.writeHead(status, location ? { location } : {}).end('page');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/authorize`;
    http = createHttpClient({ env: {} });
  });
  afterAll(async () => {
    await http.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('asks like a sign-in would — client, redirect URI, scope, prompt, PKCE S256 — and does not follow the redirect to the login page', async () => {
    answer = () => ({ status: 302, location: '/login?session=1' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'accepted', status: 302 });
    const query = asked.at(-1)!;
    expect(Object.fromEntries(query)).toMatchObject({ client_id: 'native-app', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid offline_access', prompt: 'consent', code_challenge_method: 'S256' });
    expect(query.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(asked.filter((q) => q.has('session'))).toEqual([]);
  });

  it('reads an error page (Glewlwyd 403, oidc-provider 400) as a refusal', async () => {
    answer = () => ({ status: 403 });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 403 });
  });

  it('reads a redirect to the provider’s own error page as a refusal, with its error', async () => {
    answer = () => ({ status: 302, location: '/error?error=invalid_request&error_description=Callback%20URL%20mismatch' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 302, detail: 'invalid_request — Callback URL mismatch' });
  });

  it('reads an error sent back to the redirect URI as acceptance of the URI', async () => {
    answer = (query) => ({ status: 302, location: `${query.get('redirect_uri')}?error=invalid_scope` });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'accepted', status: 302 });
  });

  it('decides nothing on a 5xx or when the endpoint does not answer', async () => {
    answer = () => ({ status: 503 });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'inconclusive', reason: 'HTTP 503' });
    expect((await probeRedirectUri(CONFIG, 'http://127.0.0.1:9/authorize', REDIRECT, http)).verdict).toBe('inconclusive');
  });
});

describe('redirectRefusedMessage', () => {
  it('with a port per sign-in, says to register a fixed port and set AUTH_REDIRECT_PORT', () => {
    expect(redirectRefusedMessage(0, REDIRECT, { verdict: 'refused', status: 403 })).toBe(
      'The provider refused the redirect URI http://127.0.0.1:49152/callback (HTTP 403): it matches redirect URIs exactly, port included, so a new port per sign-in cannot work. Register http://127.0.0.1:53682/callback at the provider and set AUTH_REDIRECT_PORT=53682.',
    );
  });

  it('with a fixed port, says to register exactly that URI', () => {
    expect(redirectRefusedMessage(7777, 'http://127.0.0.1:7777/callback', { verdict: 'refused', status: 400 })).toBe(
      'The provider refused the redirect URI http://127.0.0.1:7777/callback (HTTP 400). Register exactly http://127.0.0.1:7777/callback for this client at the provider, and check AUTH_CLIENT_ID.',
    );
  });
});
