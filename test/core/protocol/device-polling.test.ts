// How the client polls (RFC 8628 §3.4–3.5) against small stand-ins on 127.0.0.1 that answer what a
// test needs when it needs it — `slow_down` once, `expired_token`, `access_denied` — and against the
// GitHub stand-in, written from GitHub's documentation (test/providers/standins/github.ts). Times are
// taken on this process's monotonic clock, where both the client and the stand-ins run.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { connectProvider, createHttpClient, loadConfig, type HttpClient } from '../../../src/core/index.ts';
import type { DeviceCodePrompt } from '../../../src/shared/auth-state.ts';
import { DEVICE_CODE_GRANT } from '../../../src/core/protocol/device-sign-in.ts';
import { startGithubStandin } from '../../providers/standins/github.ts';
import type { Standin, StandinUser } from '../../providers/standins/standin.ts';

/** GitHub's own example user (GET /user in its REST documentation). */
const MONALISA: StandinUser = { login: 'octocat', password: 'not-used', sub: '1', name: 'monalisa octocat', email: 'octocat@github.com' };

interface Poll {
  at: number;
  form: URLSearchParams;
}

/** An RFC 8628 provider that answers the polls with `answers`, in order (the last one repeats), as HTTP 400 errors or 200 tokens. */
async function startScriptedProvider(answers: string[], options: { interval: number; expiresIn?: number; codes?: Record<string, unknown> }) {
  const polls: Poll[] = [];
  let authorizedAt = 0;
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(value));
    if (req.url === '/.well-known/openid-configuration') {
      return json(200, { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, device_authorization_endpoint: `${issuer}/device_authorization`, response_types_supported: ['code'] });
    }
    if (req.url === '/device_authorization') {
      authorizedAt = performance.now();
      return json(200, { device_code: 'device-code-1', user_code: 'BDWP-HQPK', verification_uri: `${issuer}/device`, expires_in: options.expiresIn ?? 60, interval: options.interval, ...options.codes });
    }
    if (req.url === '/token') {
      polls.push({ at: performance.now(), form: new URLSearchParams(body) });
      const answer = answers[Math.min(polls.length - 1, answers.length - 1)]!;
      if (answer === 'tokens') return json(200, { access_token: 'access-1', token_type: 'Bearer', expires_in: 300, refresh_token: 'refresh-1' });
      return json(400, { error: answer });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, polls, authorizedAt: () => authorizedAt, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('polling for a sign-in with a code', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  async function startGithub(options: { clientSecret: string; discovery?: boolean }): Promise<Standin> {
    const github = await startGithubStandin({ clientId: 'latchkey-test', users: [MONALISA], ...options });
    cleanups.push(github.stop);
    return github;
  }

  /** The user reads the code off the prompt and approves it at github.com/login/device, once the first poll was told to wait. */
  async function approveAfterFirstPoll(github: Standin, prompt: () => DeviceCodePrompt | undefined): Promise<void> {
    while (!github.requests.some((request) => request.path === '/login/oauth/access_token')) await new Promise((resolve) => setTimeout(resolve, 100));
    github.approveDeviceCode(prompt()!.userCode);
  }

  async function clientOf(issuer: string) {
    const http: HttpClient = createHttpClient();
    cleanups.push(() => http.close());
    return connectProvider(loadConfig({ env: { AUTH_ISSUER: issuer, AUTH_CLIENT_ID: 'latchkey-test', AUTH_SCOPE: 'openid offline_access' } }), { http });
  }

  it('waits the given interval before the first poll and 5 s longer after slow_down', async () => {
    const provider = await startScriptedProvider(['slow_down', 'tokens'], { interval: 1 });
    cleanups.push(provider.close);
    const client = await clientOf(provider.issuer);
    const result = await client.deviceSignIn({ onCode: () => {} });
    expect(result).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(provider.polls).toHaveLength(2);
    expect(provider.polls[0]!.form.get('grant_type')).toBe(DEVICE_CODE_GRANT);
    expect(provider.polls[0]!.form.get('device_code')).toBe('device-code-1');
    expect(provider.polls[0]!.at - provider.authorizedAt()).toBeGreaterThanOrEqual(1_000);
    // RFC 8628 §3.5: after slow_down the interval grows by 5 s, for this and every later poll.
    expect(provider.polls[1]!.at - provider.polls[0]!.at).toBeGreaterThanOrEqual(6_000);
  });

  it('expired_token ends the wait with sign_in_timeout, access_denied with sign_in_denied, each naming the code', async () => {
    const expired = await startScriptedProvider(['expired_token'], { interval: 1 });
    const denied = await startScriptedProvider(['authorization_pending', 'access_denied'], { interval: 1 });
    cleanups.push(expired.close, denied.close);
    await expect((await clientOf(expired.issuer)).deviceSignIn({ onCode: () => {} })).rejects.toMatchObject({
      code: 'sign_in_timeout',
      message: 'The code BDWP-HQPK expired before it was entered and approved at 127.0.0.1:' + new URL(expired.issuer).port + '. Sign in again for a new code.',
    });
    await expect((await clientOf(denied.issuer)).deviceSignIn({ onCode: () => {} })).rejects.toMatchObject({ code: 'sign_in_denied', message: expect.stringContaining('The sign-in with code BDWP-HQPK was declined') });
    expect(denied.polls).toHaveLength(2);
  });

  it.each([
    ['a user code with a terminal escape sequence', { user_code: '\u001b]0;pwned\u0007BDWP-HQPK' }, 'the user code "\\u001b]0;pwned\\u0007BDWP-HQPK", which Latchkey does not show: it is not a short code of printable characters'],
    ['a verification address that is not a web address', { verification_uri: 'javascript:alert(1)' }, 'the verification address "javascript:alert(1)", which Latchkey does not show: its scheme is javascript: (https is required)'],
    ['a complete address with a line break', { verification_uri_complete: 'https://id.example/device\nEnter your password at https://evil.example' }, 'the address that carries the code "https://id.example/device\\u000aEnter your password at https://evil.example", which Latchkey does not show: it holds spaces, control characters'],
    ['a verification address on plain http to another machine', { verification_uri: 'http://login.example.com/device' }, 'the verification address "http://login.example.com/device", which Latchkey does not show: it is plain http to login.example.com, which is not this machine (https is required; http only on loopback)'],
    ['a verification address with a right-to-left override', { verification_uri: 'https://login.example.com/\u202emoc.live//:sptth' }, 'the verification address "https://login.example.com/\\u202emoc.live//:sptth", which Latchkey does not show: it holds spaces, control characters, or invisible or direction-changing characters (such as U+202E)'],
    ['a verification address with a left-to-right isolate', { verification_uri: 'https://login.example.com/\u2066device' }, 'invisible or direction-changing characters'],
    ['a verification address with a line separator', { verification_uri: 'https://login.example.com/device\u2028https://evil.example' }, 'invisible or direction-changing characters'],
    ['a verification address with a user name before the host', { verification_uri: 'https://login.example.com@evil.example/device' }, 'it has a user name before the host (user@host), which hides the site it opens'],
    ['a complete address on another site than the one shown', { verification_uri: 'https://login.example.com/device', verification_uri_complete: 'https://evil.example/device?user_code=BDWP-HQPK' }, 'the address that carries the code "https://evil.example/device?user_code=BDWP-HQPK", which Latchkey does not show: it is on another site than the verification address login.example.com'],
  ])('codes that cannot be shown safely (%s) are refused before anyone sees them, naming the value, and nothing is polled', async (_name, codes, says) => {
    const provider = await startScriptedProvider(['tokens'], { interval: 1, codes });
    cleanups.push(provider.close);
    let shown = false;
    const refused = (await clientOf(provider.issuer)).deviceSignIn({ onCode: () => (shown = true) });
    await expect(refused).rejects.toMatchObject({ code: 'provider_error', message: expect.stringContaining(says) });
    // The message itself is inert: the provider's value is quoted with its escapes written out.
    await expect(refused).rejects.toMatchObject({ message: expect.not.stringMatching(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u) });
    expect(shown).toBe(false);
    expect(provider.polls).toHaveLength(0);
  });

  it('a verification address on https, or on http to this machine, is shown with its site apart', async () => {
    for (const codes of [{ verification_uri: 'https://login.example.com/device', verification_uri_complete: 'https://login.example.com/device?user_code=BDWP-HQPK' }, {}]) {
      const provider = await startScriptedProvider(['tokens'], { interval: 1, codes });
      cleanups.push(provider.close);
      let shown: DeviceCodePrompt | undefined;
      await (await clientOf(provider.issuer)).deviceSignIn({ onCode: (prompt) => (shown = prompt) });
      expect(shown?.verificationHost).toBe(codes.verification_uri ? 'login.example.com' : new URL(provider.issuer).host);
    }
  });

  it('a provider without a device authorization endpoint is refused before any request, saying what to enable', async () => {
    const bare = createServer((req, res) => {
      const issuer = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` }));
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => bare.close(() => resolve())));
    const without = await clientOf(`http://127.0.0.1:${(bare.address() as AddressInfo).port}`);
    await expect(without.deviceSignIn({ onCode: () => {} })).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('no device_authorization_endpoint (RFC 8628 §4)') });
  });

  it('AUTH_PROVIDER=github pointed at a stand-in by the endpoint settings alone: asks for JSON with client_id in the body, survives HTTP 200 authorization_pending, and takes the token', async () => {
    const github = await startGithub({ clientSecret: 'gh-secret', discovery: true });
    const http: HttpClient = createHttpClient();
    cleanups.push(() => http.close());
    const config = loadConfig({
      env: {
        AUTH_PROVIDER: 'github',
        AUTH_ISSUER: github.issuer,
        AUTH_CLIENT_ID: 'latchkey-test',
        AUTH_CLIENT_SECRET: 'gh-secret',
        AUTH_AUTHORIZATION_ENDPOINT: `${github.origin}/login/oauth/authorize`,
        AUTH_TOKEN_ENDPOINT: `${github.origin}/login/oauth/access_token`,
        AUTH_USERINFO_ENDPOINT: `${github.origin}/user`,
        AUTH_DEVICE_AUTHORIZATION_ENDPOINT: `${github.origin}/login/device/code`,
      },
    });
    const client = await connectProvider(config, { http });
    let shown: DeviceCodePrompt | undefined;
    const signingIn = client.deviceSignIn({ onCode: (prompt) => void (shown = prompt) });
    await approveAfterFirstPoll(github, () => shown);
    const result = await signingIn;
    expect(result).toMatchObject({ accessToken: github.tokenAnswers[0]!.access_token, refreshToken: github.tokenAnswers[0]!.refresh_token, user: { sub: '1', name: 'monalisa octocat' } });
    // No discovery: the stand-in's /.well-known document (served here) was never asked for; the profile came from GET /user.
    expect(github.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /login/device/code', 'POST /login/oauth/access_token', 'POST /login/oauth/access_token', 'GET /user']);
    for (const request of github.requests.filter((request) => request.method === 'POST')) {
      expect(request.accept).toBe('application/json');
      expect(request.form.get('client_id')).toBe('latchkey-test');
    }
    expect(github.requests[0]!.form.get('scope')).toBe('read:user user:email');
  });

  it('GitHub: asks for JSON, keeps polling through its HTTP 200 authorization_pending answers, and takes the token', async () => {
    const github = await startGithub({ clientSecret: 'gh-secret', discovery: true });
    const client = await clientOf(github.issuer);
    let shown: DeviceCodePrompt | undefined;
    const signingIn = client.deviceSignIn({
      onCode: (prompt) => {
        shown = prompt;
      },
    });
    // The user enters the code after the first poll was told to wait.
    await approveAfterFirstPoll(github, () => shown);
    const result = await signingIn;
    expect(result).toMatchObject({ accessToken: github.tokenAnswers[0]!.access_token, refreshToken: github.tokenAnswers[0]!.refresh_token });
    expect(shown).toMatchObject({ userCode: expect.stringMatching(/^[B-Z]{4}-[B-Z]{4}$/), verificationUri: 'https://github.com/login/device' });
    const [codeRequest, ...polls] = github.requests.filter((request) => request.method === 'POST');
    expect(codeRequest).toMatchObject({ path: '/login/device/code', accept: 'application/json' });
    expect(codeRequest!.form.get('client_id')).toBe('latchkey-test');
    expect(polls).toHaveLength(2);
    for (const poll of polls) {
      expect(poll).toMatchObject({ path: '/login/oauth/access_token', accept: 'application/json' });
      expect(poll.form.get('grant_type')).toBe(DEVICE_CODE_GRANT);
      expect(poll.form.get('client_id')).toBe('latchkey-test');
    }
    // GitHub's interval (5 s) between the polls, though the pending answer came with HTTP 200.
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(5_000);
  });
});
