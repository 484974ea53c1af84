// Sign-in with a code (RFC 8628) against the real demo provider (oidc-provider's device flow, stock
// pages), with the code entered in Chromium as a person would on another device, and the OS keychain.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import keytar from 'keytar';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthSession, createLogger, keychainAccount, loadConfig, type AuthSession } from '../../../src/core/index.ts';
import type { DeviceCodePrompt } from '../../../src/shared/auth-state.ts';
import { DEVICE_CODE_GRANT } from '../../../src/core/protocol/device-sign-in.ts';
import { createHttpClient } from '../../../src/core/net/http.ts';
import { launchBrowser, type Browser } from '../../../support/browser.ts';
import { enterDeviceCode } from '../../../support/device-approval.ts';
import { demoCliEnv } from '../../helpers/cli.ts';
import { startTestDemo } from '../../helpers/demo.ts';

describe('sign-in with a code against the demo provider', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let dataDir: string;
  const service = `latchkey-test-device-${randomUUID()}`;
  const sessions: AuthSession[] = [];

  beforeAll(async () => {
    [demo, browser, dataDir] = await Promise.all([startTestDemo({ accessTokenTtl: 30 }), launchBrowser(), mkdtemp(join(tmpdir(), 'latchkey-device-'))]);
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((session) => session.close()));
  });
  afterAll(async () => {
    await keytar.deletePassword(service, keychainAccount(config())).catch(() => false);
    await Promise.all([demo?.close(), browser?.close(), rm(dataDir, { recursive: true, force: true })]);
  });

  const config = () => loadConfig({ env: demoCliEnv(demo, { service, dataDir }) });

  async function openSession(): Promise<AuthSession> {
    const session = await createAuthSession({
      config: config(),
      opener: () => Promise.reject(new Error('a sign-in with a code opens no browser here')),
      logger: createLogger({ level: 'silent' }),
    });
    sessions.push(session);
    return session;
  }

  /** The codes the session shows, once it shows them. */
  const codeShown = (session: AuthSession) =>
    new Promise<DeviceCodePrompt>((resolve) => {
      const stop = session.onStateChange((state) => {
        if (state.deviceCode) {
          stop();
          resolve(state.deviceCode);
        }
      });
    });

  const devicePolls = () => demo.stats.tokenRequestsByGrant[DEVICE_CODE_GRANT] ?? 0;

  it('signs in once the code is entered and approved in a browser; the session then refreshes and signs out like a browser sign-in', async () => {
    const session = await openSession();
    const shown = codeShown(session);
    const signingIn = session.signIn({ method: 'device' });
    const prompt = await shown;
    expect(prompt).toMatchObject({ issuer: config().issuer, clientId: config().clientId, userCode: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/) });
    expect(prompt.verificationUri).toBe(`${demo.issuer}/device`);
    expect(prompt.verificationUriComplete).toContain(encodeURIComponent(prompt.userCode).slice(0, 4));
    expect(prompt.expiresAt - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(session.getState()).toMatchObject({ status: 'signing-in', deviceCode: { userCode: prompt.userCode } });

    expect(await enterDeviceCode(browser, prompt.verificationUri, prompt.userCode)).toMatch(/Sign-in Success/);
    const signedIn = await signingIn;
    expect(signedIn).toMatchObject({ status: 'signed-in', user: { sub: 'alice', name: 'Alice Liddell' } });
    expect(signedIn.deviceCode).toBeUndefined();

    // Persist-first storage: the refresh token is in the keychain, as after a browser sign-in.
    const stored = JSON.parse((await keytar.getPassword(service, keychainAccount(config())))!) as { refresh_token: string; sub: string };
    expect(stored.sub).toBe('alice');
    const token = await session.getAccessToken();
    const callMe = async () => (await fetch(`${demo.apiUrl}/me`, { headers: { ...(await session.requestHeaders({ method: 'GET', url: `${demo.apiUrl}/me` })) } })).status;
    expect(await callMe()).toBe(200);

    // The 401 rule: a rejected token is replaced by a refresh, and the rotated refresh token is stored.
    const newer = await session.refreshAccessToken(token);
    expect(newer).not.toBe(token);
    expect(await callMe()).toBe(200);
    const rotated = JSON.parse((await keytar.getPassword(service, keychainAccount(config())))!) as { refresh_token: string };
    expect(rotated.refresh_token).not.toBe(stored.refresh_token);

    // A second process finds the same session in the keychain.
    const other = await openSession();
    expect(other.getState()).toMatchObject({ status: 'signed-in', user: { sub: 'alice' } });

    await session.signOut();
    expect(await keytar.getPassword(service, keychainAccount(config()))).toBeNull();
  });

  it('stops with sign_in_denied, in words, when the code is refused at the provider', async () => {
    const session = await openSession();
    const shown = codeShown(session);
    const signingIn = session.signIn({ method: 'device' });
    signingIn.catch(() => {});
    const prompt = await shown;
    await enterDeviceCode(browser, prompt.verificationUri, prompt.userCode, { answer: 'abort' });
    await expect(signingIn).rejects.toMatchObject({ code: 'sign_in_denied', message: expect.stringContaining(`code ${prompt.userCode} was declined at 127.0.0.1`) });
    expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'sign_in_denied' } });
    expect(session.getState().deviceCode).toBeUndefined();
  });

  it('stops with sign_in_timeout when the code expires before anyone enters it', async () => {
    const shortLived = await startTestDemo({ deviceCodeTtl: 2 });
    try {
      const session = await createAuthSession({ config: loadConfig({ env: demoCliEnv(shortLived, { service, dataDir }) }), opener: () => Promise.resolve(), logger: createLogger({ level: 'silent' }) });
      sessions.push(session);
      const shown = codeShown(session);
      const signingIn = session.signIn({ method: 'device' });
      signingIn.catch(() => {});
      const prompt = await shown;
      await expect(signingIn).rejects.toMatchObject({ code: 'sign_in_timeout', message: expect.stringContaining(`The code ${prompt.userCode} expired`) });
      expect(session.getState()).toMatchObject({ status: 'signed-out', error: { code: 'sign_in_timeout' } });
    } finally {
      await shortLived.close();
    }
  });

  it('cancelling ends the wait at once, clears the code and sends no further poll', async () => {
    const session = await openSession();
    const shown = codeShown(session);
    const signingIn = session.signIn({ method: 'device' });
    signingIn.catch(() => {});
    await shown;
    const pollsBefore = devicePolls();
    const cancelledAt = performance.now();
    session.cancelSignIn();
    await expect(signingIn).rejects.toMatchObject({ code: 'sign_in_cancelled' });
    // The code was just shown: the first poll is the provider's 5 s interval away, and a wait that did not
    // hear the cancel would end only then. Half of that leaves a busy machine seconds to spare.
    expect(performance.now() - cancelledAt).toBeLessThan(2_500);
    expect(session.getState()).toEqual(expect.objectContaining({ status: 'signed-out' }));
    expect(session.getState().deviceCode).toBeUndefined();
    expect(session.getState().error).toBeUndefined();
    // Past the provider's 5 s interval: a poll loop still running would have asked by now.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(devicePolls()).toBe(pollsBefore);
  });

  it('under auto (the demo offers DPoP) the device token polls carry proofs, so the access token is bound to the key stored with the session', async () => {
    const session = await openSession();
    const shown = codeShown(session);
    const signingIn = session.signIn({ method: 'device' });
    const prompt = await shown;
    expect(await enterDeviceCode(browser, prompt.verificationUri, prompt.userCode)).toMatch(/Sign-in Success/);
    await signingIn;
    const stored = JSON.parse((await keytar.getPassword(service, keychainAccount(config())))!) as { dpop_key?: { kty: string; crv: string; x: string; y: string } };
    expect(stored.dpop_key).toBeDefined();
    const { kty, crv, x, y } = stored.dpop_key!;
    const thumbprint = await calculateJwkThumbprint({ kty, crv, x, y });
    const token = await session.getAccessToken();
    expect((decodeJwt(token).cnf as { jkt?: string } | undefined)?.jkt).toBe(thumbprint);
    // Bound: sent as a plain Bearer token the API refuses it; with the session's proof it accepts it.
    expect((await fetch(`${demo.apiUrl}/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const headers = await session.requestHeaders({ method: 'GET', url: `${demo.apiUrl}/me` });
    expect((await fetch(`${demo.apiUrl}/me`, { headers: { ...headers } })).status).toBe(200);
    await session.signOut();
  });

  it('under required, a provider without DPoP is refused before any code is requested', async () => {
    const plain = await startTestDemo({ dpop: 'off' });
    const real = createHttpClient();
    const paths: string[] = [];
    try {
      const http = { ...real, fetch: (async (input: string | URL, init?: RequestInit) => {
        paths.push(new URL(String(input)).pathname);
        return real.fetch(input, init);
      }) as typeof fetch };
      const session = await createAuthSession({
        config: loadConfig({ env: demoCliEnv(plain, { service, dataDir }, { AUTH_DPOP: 'required' }) }),
        opener: () => Promise.reject(new Error('a sign-in with a code opens no browser here')),
        logger: createLogger({ level: 'silent' }),
        http,
      });
      sessions.push(session);
      let codeWasShown = false;
      session.onStateChange((state) => {
        if (state.deviceCode) codeWasShown = true;
      });
      await expect(session.signIn({ method: 'device' })).rejects.toMatchObject({
        code: 'provider_error',
        message: expect.stringMatching(/^DPoP is required \(AUTH_DPOP=required\) but the provider at .* cannot bind tokens: its metadata does not list dpop_signing_alg_values_supported/),
      });
      expect(codeWasShown).toBe(false);
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((path) => path.includes('device'))).toEqual([]);
      expect(plain.stats.tokenRequests).toBe(0);
    } finally {
      await real.close();
      await plain.close();
    }
  });
});
