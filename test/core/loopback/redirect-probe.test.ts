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
  let answer: (query: URLSearchParams) => { status: number; location?: string; body?: string; type?: string };
  const asked: URLSearchParams[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      asked.push(query);
      const { status, location, body, type } = answer(query);
      res.writeHead(status, { ...(location ? { location } : {}), ...(type ? { 'content-type': type } : {}) }).end(body ?? 'page');
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
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 403, cause: 'unstated' });
  });

  it('reads a redirect to the provider’s own error page as a refusal, with its error', async () => {
    answer = () => ({ status: 302, location: '/error?error=invalid_request&error_description=Callback%20URL%20mismatch' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 302, detail: 'invalid_request — Callback URL mismatch', error: 'invalid_request', cause: 'redirect' });
  });

  it('reads what the refusal names: an unknown client (JSON or an HTML page), a redirect URI, another error, or nothing', async () => {
    answer = () => ({ status: 401, type: 'application/json', body: JSON.stringify({ error: 'invalid_client', error_description: 'client authentication failed' }) });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 401, detail: 'invalid_client — client authentication failed', error: 'invalid_client', cause: 'client' });
    answer = () => ({ status: 400, type: 'text/html', body: '<!doctype html><title>invalid_client · Some provider</title><p>oops! something went wrong</p><form><input name="redirect_uri"></form>' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toMatchObject({ verdict: 'refused', error: 'invalid_client', cause: 'client' });
    answer = () => ({ status: 400, type: 'text/html', body: '<h1>We are sorry...</h1><p>Client not found.</p>' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toMatchObject({ verdict: 'refused', cause: 'client' });
    answer = () => ({ status: 400, type: 'text/html', body: '<title>invalid_redirect_uri</title><p>redirect_uri did not match any of the client\'s registered redirect_uris</p>' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toMatchObject({ verdict: 'refused', error: 'invalid_redirect_uri', cause: 'redirect' });
    answer = () => ({ status: 400, type: 'application/json', body: JSON.stringify({ error: 'invalid_scope', error_description: 'offline_access is not allowed\u001b]0;owned\u0007' }) });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 400, detail: 'invalid_scope — offline_access is not allowed\\u001b]0;owned\\u0007', error: 'invalid_scope', cause: 'other' });
    answer = () => ({ status: 403, body: '' });
    expect(await probeRedirectUri(CONFIG, endpoint, REDIRECT, http)).toEqual({ verdict: 'refused', status: 403, cause: 'unstated' });
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

  it('an unknown client is reported as such, naming AUTH_CLIENT_ID, with no guess about ports; another stated error names its own setting', () => {
    const message = redirectRefusedMessage(0, REDIRECT, { verdict: 'refused', status: 400, detail: 'invalid_client', error: 'invalid_client', cause: 'client' }, 'no-such-client');
    expect(message).toBe(
      'The provider does not accept the client id no-such-client (HTTP 400: invalid_client). Check AUTH_CLIENT_ID: it must be the client (application) id of the app registered at this provider, for this issuer — and AUTH_CLIENT_SECRET where the provider issued one.',
    );
    expect(redirectRefusedMessage(0, REDIRECT, { verdict: 'refused', status: 400, detail: 'invalid_scope', error: 'invalid_scope', cause: 'other' })).toBe(
      'The provider refused the sign-in request (HTTP 400: invalid_scope). Check AUTH_SCOPE: the provider refuses one of the scopes asked for.',
    );
  });

  it('with a fixed port, says to register exactly that URI', () => {
    expect(redirectRefusedMessage(7777, 'http://127.0.0.1:7777/callback', { verdict: 'refused', status: 400 })).toBe(
      'The provider refused the redirect URI http://127.0.0.1:7777/callback (HTTP 400). Register exactly http://127.0.0.1:7777/callback for this client at the provider, and check AUTH_CLIENT_ID.',
    );
  });
});
