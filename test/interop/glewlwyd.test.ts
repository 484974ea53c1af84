import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLEWLWYD_BIN, startGlewlwyd } from './glewlwyd.ts';
import type { GlewlwydServer } from './glewlwyd.ts';
import { withoutNssWrapper } from '../../scripts/nss-wrapper.ts';
import { signInThroughGlewlwyd } from '../../support/glewlwyd-signin.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = [GLEWLWYD_BIN, CHROMIUM].find((path) => !existsSync(path));
const SCOPE = 'openid profile email offline_access';

describe.skipIf(missing)(missing ? `Glewlwyd interop: skipped, ${missing} is not installed` : 'Glewlwyd interop harness', () => {
  let glewlwyd: GlewlwydServer;
  let browser: Browser;
  let callbackServer: Server;
  let config: client.Configuration;
  const callbacks: string[] = [];

  beforeAll(async () => {
    glewlwyd = await startGlewlwyd();
    callbackServer = createServer((request, response) => {
      if (request.url?.startsWith('/callback')) callbacks.push(request.url);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in; you can close this window.');
    });
    await new Promise<void>((resolve, reject) => {
      callbackServer.once('error', reject).listen(glewlwyd.redirectPort, '127.0.0.1', resolve);
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'], env: withoutNssWrapper() });
    config = await client.discovery(new URL(glewlwyd.issuer), glewlwyd.clientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => callbackServer ? callbackServer.close(resolve) : resolve(undefined));
    await glewlwyd?.stop();
  });

  async function signIn() {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: glewlwyd.redirectUri,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const context = await browser.newContext();
    try {
      const callbackUrl = await signInThroughGlewlwyd(await context.newPage(), authorizationUrl.href, glewlwyd);
      return await client.authorizationCodeGrant(config, new URL(callbackUrl), {
        pkceCodeVerifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
    } finally {
      await context.close();
    }
  }

  it('serves discovery for its issuer, without refresh_token among the grants or none among the auth methods', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(glewlwyd.issuer);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.grant_types_supported).toEqual(['authorization_code', 'implicit']);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
    expect(metadata.revocation_endpoint_auth_methods_supported).toEqual(['client_secret_basic']);
    expect(metadata.end_session_endpoint).toBe(`${glewlwyd.issuer}/end_session`);
  });

  it('signs in through the browser with code + PKCE S256 to the loopback redirect: access, ID and refresh tokens', async () => {
    const tokens = await signIn();
    expect(callbacks.at(-1)).toMatch(/^\/callback\?.*code=/);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.expires_in).toBe(60);
    expect(tokens.scope?.split(' ').sort()).toEqual(SCOPE.split(' ').sort());
    expect(tokens.claims()).toMatchObject({
      iss: glewlwyd.issuer,
      aud: glewlwyd.clientId,
      name: glewlwyd.name,
      email: glewlwyd.email,
      amr: ['password'],
    });
    const userInfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(userInfo).toMatchObject({ name: glewlwyd.name, email: glewlwyd.email });
  });

  it('rotates the refresh token, refuses the spent one with HTTP 400 and an empty body, and then kills the chain', async () => {
    const before = glewlwyd.refreshTokenStats();
    const since = () => {
      const now = glewlwyd.refreshTokenStats();
      return { chains: now.chains.slice(before.chains.length), refused: now.refusedRefreshes! - before.refusedRefreshes! };
    };
    const first = await signIn();
    expect(since()).toEqual({ chains: [{ issued: 1, usable: 1, dead: false }], refused: 0 });

    const second = await client.refreshTokenGrant(config, first.refresh_token!);
    expect(second.access_token).toBeTruthy();
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.id_token).toBeUndefined();
    expect(since()).toEqual({ chains: [{ issued: 2, usable: 1, dead: false }], refused: 0 });

    const refused = await client.refreshTokenGrant(config, first.refresh_token!).then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({ message: 'unexpected response content-type', code: 'OAUTH_RESPONSE_IS_NOT_JSON', cause: { status: 400 } });
    // Glewlwyd logs the refusal on its stdout, which can reach us a moment after its answer.
    await expect.poll(since).toEqual({ chains: [{ issued: 2, usable: 0, dead: true }], refused: 1 });

    const raw = await fetch(config.serverMetadata().token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: glewlwyd.clientId }),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('content-type')).toBeNull();
    expect(await raw.text()).toBe('');

    await expect(client.refreshTokenGrant(config, second.refresh_token!)).rejects.toMatchObject({ cause: { status: 400 } });
    await expect.poll(since).toEqual({ chains: [{ issued: 2, usable: 0, dead: true }], refused: 3 });
  });

  it('refuses token revocation by the public client with HTTP 401 and an empty body', async () => {
    const tokens = await signIn();
    const revoke = await fetch(config.serverMetadata().revocation_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: glewlwyd.clientId }),
    });
    expect(revoke.status).toBe(401);
    expect(await revoke.text()).toBe('');
    await expect(client.tokenRevocation(config, tokens.refresh_token!))
      .rejects.toMatchObject({ code: 'OAUTH_RESPONSE_IS_NOT_JSON', cause: { status: 401 } });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
  });

  it('refuses a wrong password on its login page', async () => {
    const context = await browser.newContext();
    try {
      const authorizationUrl = client.buildAuthorizationUrl(config, {
        redirect_uri: glewlwyd.redirectUri,
        scope: SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        nonce: client.randomNonce(),
      });
      await expect(signInThroughGlewlwyd(await context.newPage(), authorizationUrl.href, { username: glewlwyd.username, password: 'not-the-password' }))
        .rejects.toThrow(/refused the sign-in of alice: Authentication error/);
    } finally {
      await context.close();
    }
  });
});
