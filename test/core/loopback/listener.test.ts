import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/core/errors.ts';
import { callbackUrlOf, startLoopbackServer, type LoopbackServer, type ValidatedCallback } from '../../../src/core/loopback/listener.ts';

const STATE = 'state-abc123';
const servers: LoopbackServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: Partial<Parameters<typeof startLoopbackServer>[0]> = {}): Promise<LoopbackServer> {
  const server = await startLoopbackServer({ port: 0, expectedState: STATE, closeGraceMs: 200, ...options });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so Host and method can be forged the way a malicious page or local process would. */
function send(port: number, path: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function settled<T>(promise: Promise<T>): () => boolean {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('loopback listener', () => {
  it('listens on 127.0.0.1 only, with the exact redirect URI', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.redirectUri).toBe(`http://127.0.0.1:${server.port}/callback`);
  });

  it('refuses forged callbacks with a 4xx and still accepts the real one', async () => {
    const server = await start();
    const isSettled = settled(server.waitForCallback());
    const { port } = server;
    const forged: Array<[string, Answer]> = [
      ['wrong state', await send(port, '/callback?code=evil&state=other')],
      ['missing state', await send(port, '/callback?code=evil')],
      ['two states', await send(port, `/callback?code=evil&state=${STATE}&state=${STATE}`)],
      ['POST', await send(port, `/callback?code=evil&state=${STATE}`, { method: 'POST' })],
      ['other path', await send(port, `/login?code=evil&state=${STATE}`)],
      ['foreign Host (DNS rebinding)', await send(port, `/callback?code=evil&state=${STATE}`, { host: `attacker.example:${port}` })],
      ['localhost Host', await send(port, `/callback?code=evil&state=${STATE}`, { host: `localhost:${port}` })],
      ['oversized target', await send(port, `/callback?code=evil&state=${STATE}&pad=${'x'.repeat(9000)}`)],
      ['oversized headers', await send(port, `/callback?code=evil&state=${STATE}`, { headers: { 'x-pad': 'y'.repeat(9000) } })],
      ['result page before the callback', await send(port, '/done?r=guess')],
      ['denial with a wrong state', await send(port, '/callback?error=access_denied&state=other')],
      // What any web page can make the browser send (fetch with mode no-cors): once, this threw out of the listener and crashed the process.
      ['malformed authority-like target', await send(port, `//a:99999/callback?code=evil&state=${STATE}`)],
      ['another authority', await send(port, `//attacker.example/callback?code=evil&state=${STATE}`)],
      ['absolute-form target', await send(port, `http://attacker.example/callback?code=evil&state=${STATE}`)],
    ];
    for (const [name, answer] of forged) {
      expect({ name, status: answer.status >= 400 && answer.status < 500 }).toEqual({ name, status: true });
    }
    expect(forged.find(([name]) => name === 'POST')?.[1].headers.allow).toBe('GET');
    expect(isSettled()).toBe(false);

    const real = await send(port, `/callback?code=the-code&state=${STATE}&iss=https%3A%2F%2Fidp.example`);
    expect(real.status).toBe(303);
    expect(real.headers.location).toMatch(/^\/done\?r=[\w-]+$/);
    expect(real.headers.location).not.toContain('code');
    const callback = await server.waitForCallback();
    const url = callbackUrlOf(callback);
    expect(url.origin + url.pathname).toBe(server.redirectUri);
    expect(url.searchParams.get('code')).toBe('the-code');
    expect(url.searchParams.get('iss')).toBe('https://idp.example');

    expect((await send(port, `/callback?code=again&state=${STATE}`)).status).toBe(409);
  });

  it('shows "signed in" only once the outcome is success, with strict headers', async () => {
    const server = await start();
    const real = await send(server.port, `/callback?code=c&state=${STATE}`);
    const page = send(server.port, real.headers.location as string);
    const pageSettled = settled(page);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pageSettled()).toBe(false);
    server.complete({ ok: true });
    const answer = await page;
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Signed in — you can close this tab and return to Latchkey');
    expect(answer.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'nonce-[^']+'/);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect((await send(server.port, real.headers.location as string)).status).toBe(404);
  });

  it('shows what went wrong when the exchange failed', async () => {
    const server = await start();
    const real = await send(server.port, `/callback?code=c&state=${STATE}`);
    server.complete({ ok: false, error: new AuthError('provider_unreachable', 'The provider at <https://idp> could not be reached.') });
    const answer = await send(server.port, real.headers.location as string);
    expect(answer.body).not.toContain('Signed in');
    expect(answer.body).toContain('Sign-in failed');
    expect(answer.body).toContain('could not be reached');
    expect(answer.body).toContain('&#60;https://idp&#62;');
    expect(answer.body).toMatch(/Check your network connection/);
  });

  it('ends the sign-in at once on a provider error with the right state', async () => {
    const server = await start();
    const real = await send(server.port, `/callback?error=access_denied&error_description=${encodeURIComponent('The user said no.')}&state=${STATE}`);
    expect(real.status).toBe(303);
    const error = await server.waitForCallback().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('sign_in_denied');
    // One sentence, even when the provider's description brings its own full stop.
    expect((error as AuthError).message).toBe('The provider did not sign you in: access_denied — The user said no.');
    const page = await send(server.port, real.headers.location as string);
    expect(page.body).toContain('Sign-in not completed');
    expect(page.body).toContain('The user said no');
  });

  it('refuses a provider error from another issuer (RFC 9207 mix-up) instead of reporting it as the provider\'s answer', async () => {
    const expectedIssuer = { issuer: 'https://idp.example/', required: true };
    const cases: Array<[string, string]> = [
      ['another issuer', '&iss=https%3A%2F%2Fattacker.example%2F'],
      ['no iss though the provider always sends one', ''],
      ['two iss parameters', '&iss=https%3A%2F%2Fidp.example%2F&iss=https%3A%2F%2Fattacker.example%2F'],
    ];
    for (const [, iss] of cases) {
      const server = await start({ expectedIssuer });
      const real = await send(server.port, `/callback?error=access_denied&error_description=${encodeURIComponent('Say no')}&state=${STATE}${iss}`);
      expect(real.status).toBe(303);
      const error = (await server.waitForCallback().catch((e: unknown) => e)) as AuthError;
      expect(error.code).toBe('provider_error');
      expect(error.message).toContain('RFC 9207');
      expect(error.message).not.toContain('Say no');
    }
    const genuine = await start({ expectedIssuer });
    await send(genuine.port, `/callback?error=access_denied&state=${STATE}&iss=${encodeURIComponent(expectedIssuer.issuer)}`);
    expect(((await genuine.waitForCallback().catch((e: unknown) => e)) as AuthError).code).toBe('sign_in_denied');
    const optional = await start({ expectedIssuer: { ...expectedIssuer, required: false } });
    await send(optional.port, `/callback?error=access_denied&state=${STATE}`);
    expect(((await optional.waitForCallback().catch((e: unknown) => e)) as AuthError).code).toBe('sign_in_denied');
  });

  it('times out when its injected timer fires, with no real wait', async () => {
    let fire: (() => void) | undefined;
    let scheduledMs = 0;
    const server = await start({
      timeoutMs: 300_000,
      timers: { setTimeout: (callback, ms) => ((fire = callback), (scheduledMs = ms)), clearTimeout: () => undefined },
    });
    expect(scheduledMs).toBe(300_000);
    fire?.();
    const error = await server.waitForCallback().catch((e: unknown) => e);
    expect((error as AuthError).code).toBe('sign_in_timeout');
    expect((error as AuthError).message).toMatch(/within 300 seconds/);
    await server.close();
    expect(await portIsFree(server.port)).toBe(true);
  });

  it('times out, then frees the port', async () => {
    const server = await start({ timeoutMs: 150 });
    const error = await server.waitForCallback().catch((e: unknown) => e);
    expect((error as AuthError).code).toBe('sign_in_timeout');
    await server.close();
    expect(await portIsFree(server.port)).toBe(true);
  });

  it('is cancelled by its signal, then frees the port', async () => {
    const controller = new AbortController();
    const server = await start({ signal: controller.signal });
    const waiting = server.waitForCallback();
    await send(server.port, '/callback?state=nope');
    controller.abort();
    const error = await waiting.catch((e: unknown) => e);
    expect((error as AuthError).code).toBe('sign_in_cancelled');
    await server.close();
    expect(await portIsFree(server.port)).toBe(true);
  });

  it('rejects a pending wait when closed (shutdown), and the port can be bound again', async () => {
    const server = await start();
    const waiting = server.waitForCallback();
    await server.close();
    expect(((await waiting.catch((e: unknown) => e)) as AuthError).code).toBe('sign_in_cancelled');
    const again = await start({ port: server.port });
    expect(again.port).toBe(server.port);
  });

  it('reports a busy fixed port, naming the port and the setting', async () => {
    const busy = await start();
    const error = await startLoopbackServer({ port: busy.port, expectedState: STATE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('port_in_use');
    expect((error as AuthError).message).toContain(`127.0.0.1:${busy.port}`);
    expect((error as AuthError).message).toContain('AUTH_REDIRECT_PORT');
  });

  it('accepts only callbacks it validated itself', () => {
    expect(() => callbackUrlOf({} as ValidatedCallback)).toThrow(AuthError);
  });

  it('binds to 127.0.0.1, not every interface', async () => {
    const server = await start();
    const probe = createServer();
    // The same port on another loopback address is still free: the listener did not take 0.0.0.0.
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(server.port, '127.0.0.2', () => resolve());
    });
    expect((probe.address() as AddressInfo).port).toBe(server.port);
    await new Promise((resolve) => probe.close(resolve));
  });

  it('with redirect host localhost: the URI names localhost, [::1] on the same port answers too, and a Host of 127.0.0.1 is refused', async () => {
    const server = await start({ redirectHost: 'localhost' });
    expect(server.redirectUri).toBe(`http://localhost:${server.port}/callback`);
    expect((await send(server.port, `/callback?state=${STATE}&code=c`, { host: `127.0.0.1:${server.port}` })).status).toBe(421);
    const ipv6 = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '::1', port: server.port, path: '/favicon.ico', headers: { host: `localhost:${server.port}` }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    }).catch((error: NodeJS.ErrnoException) => (error.code === 'EADDRNOTAVAIL' || error.code === 'ENETUNREACH' ? 'no-ipv6' : Promise.reject(error)));
    // Answered by Latchkey's listener (its 404), not refused: nothing else can hold [::1] on this port.
    if (ipv6 !== 'no-ipv6') expect(ipv6).toBe(404);
    const answer = await send(server.port, `/callback?state=${STATE}&code=c`, { host: `localhost:${server.port}` });
    expect(answer.status).toBe(303);
    expect(callbackUrlOf(await server.waitForCallback()).href).toBe(`http://localhost:${server.port}/callback?state=${STATE}&code=c`);
  });
});
