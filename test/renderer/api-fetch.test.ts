// apiFetch against a real HTTP server on 127.0.0.1 that accepts one token.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiFetch } from '../../src/renderer/api-fetch.ts';

describe('apiFetch (bearer, one refresh after 401)', () => {
  let server: Server;
  let url: string;
  let seen: string[];
  let accepted = 'fresh-token';

  beforeAll(async () => {
    server = createServer((request, response) => {
      const authorization = request.headers.authorization ?? '';
      seen.push(authorization);
      if (request.url === '/always-nonce') {
        seen.push(`dpop ${String(request.headers.dpop)}`);
        response.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': `n${seen.length}` }).end();
      } else if (request.url === '/strong' && authorization !== 'Bearer strong-token') {
        // RFC 9470 §3: this route wants a stronger sign-in than the token's.
        response.writeHead(401, { 'www-authenticate': 'Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:example:mfa", max_age=300' }).end();
      } else if (request.url === '/strong') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"sub":"alice","acr":"urn:example:mfa"}');
      } else if (request.url === '/broken') {
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      } else if (authorization === `Bearer ${accepted}`) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"sub":"alice"}');
      } else {
        response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    accepted = 'fresh-token';
    stronger = 'still-weak';
  });

  /** main's side, bearer: the headers carry the current token; a refresh makes the renewed one current. */
  const auth = (current: string, renewed: string | Error) => {
    let token = current;
    return {
      requestHeaders: vi.fn(async (_request: { method: string; url: string; nonce?: string }) => ({ Authorization: `Bearer ${token}` })),
      refreshAccessToken: vi.fn(async (_rejected: string) => {
        if (renewed instanceof Error) throw renewed;
        token = renewed;
        return renewed;
      }),
      // main's step-up sign-in: the token afterwards is `stronger` (default one the API still refuses).
      stepUp: vi.fn(async (_challenge: string) => {
        token = stronger;
        return { status: 'signed-in' as const };
      }),
    };
  };
  let stronger = 'still-weak';

  it('sends the access token as a Bearer credential and does not refresh when it is accepted', async () => {
    const api = auth('fresh-token', 'unused');
    const response = await apiFetch(api, fetch, `${url}/me`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'alice' });
    expect(seen).toEqual(['Bearer fresh-token']);
    expect(api.refreshAccessToken).not.toHaveBeenCalled();
  });

  it('after a 401 refreshes once, naming the rejected token, and retries with the new one', async () => {
    const api = auth('expired-token', 'fresh-token');
    const response = await apiFetch(api, fetch, `${url}/me`);
    expect(response.status).toBe(200);
    expect(api.refreshAccessToken.mock.calls).toEqual([['expired-token']]);
    expect(seen).toEqual(['Bearer expired-token', 'Bearer fresh-token']);
  });

  it('a second 401 is an error, not a loop: one refresh, two requests', async () => {
    accepted = 'nothing-is-accepted';
    const api = auth('expired-token', 'also-refused');
    const failure = await apiFetch(api, fetch, `${url}/me`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ code: 'api_unauthorized', status: 401 });
    expect(api.refreshAccessToken).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['Bearer expired-token', 'Bearer also-refused']);
  });

  it('passes a failed refresh through (e.g. the session ended) without retrying the request', async () => {
    const ended = Object.assign(new Error('Your session ended — sign in again.'), { code: 'session_ended' });
    const api = auth('expired-token', ended);
    await expect(apiFetch(api, fetch, `${url}/me`)).rejects.toBe(ended);
    expect(seen).toEqual(['Bearer expired-token']);
  });

  it('returns other errors as they are, without refreshing', async () => {
    const api = auth('fresh-token', 'unused');
    const response = await apiFetch(api, fetch, `${url}/broken`);
    expect(response.status).toBe(500);
    expect(api.refreshAccessToken).not.toHaveBeenCalled();
  });

  it('answers a DPoP nonce challenge once per attempt, never in a loop: two attempts, four requests, then an error', async () => {
    let token = 'bound-1';
    const api = {
      requestHeaders: vi.fn(async (request: { method: string; url: string; nonce?: string }) => ({ Authorization: `DPoP ${token}`, DPoP: `proof-${request.nonce ?? 'none'}` })),
      refreshAccessToken: vi.fn(async (_rejected: string) => (token = 'bound-2')),
      stepUp: vi.fn(async () => ({ status: 'signed-in' as const })),
    };
    const failure = await apiFetch(api, fetch, `${url}/always-nonce`).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'api_unauthorized' });
    expect(api.requestHeaders.mock.calls.map(([request]) => request.nonce)).toEqual([undefined, 'n2', undefined, 'n6']);
    expect(api.refreshAccessToken.mock.calls).toEqual([['bound-1']]);
    expect(seen.filter((line) => line.startsWith('dpop '))).toEqual(['dpop proof-none', 'dpop proof-n2', 'dpop proof-none', 'dpop proof-n6']);
  });

  it('a step-up challenge (RFC 9470) is no refresh case: it says why, signs in again with the challenge, and retries once', async () => {
    stronger = 'strong-token';
    const api = auth('fresh-token', 'unused');
    const told: unknown[] = [];
    const response = await apiFetch(api, fetch, `${url}/strong`, {}, { onStepUp: (request) => told.push(request) });
    expect(response.status).toBe(200);
    expect(told).toEqual([{ acrValues: 'urn:example:mfa', maxAge: 300, reason: 'A stronger sign-in is required' }]);
    expect(api.stepUp.mock.calls).toEqual([[expect.stringContaining('error="insufficient_user_authentication"')]]);
    expect(api.refreshAccessToken).not.toHaveBeenCalled();
    expect(seen).toEqual(['Bearer fresh-token', 'Bearer strong-token']);
  });

  it('a second step-up challenge for the same call is shown as an error, not another sign-in', async () => {
    const api = auth('fresh-token', 'unused');
    const failure = await apiFetch(api, fetch, `${url}/strong`).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'api_unauthorized', message: expect.stringMatching(/asked for a stronger sign-in again.*\(A stronger sign-in is required\)\. Latchkey asks only once/) });
    expect(api.stepUp).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['Bearer fresh-token', 'Bearer still-weak']);
  });

  it('reports an unreachable API in words', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(apiFetch(auth('t', 'u'), fetch, `http://127.0.0.1:${port}/me`)).rejects.toMatchObject({ code: 'api_unreachable' });
  });
});
