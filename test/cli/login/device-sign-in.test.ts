// `latchkey login --device` and the fallback of `latchkey login` to a code, as a user runs them: real
// CLI processes over the real demo provider, the code entered in Chromium as on another device, and
// the OS keychain.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../../src/core/index.ts';
import { describeDeviceCode } from '../../../src/cli/login/device-sign-in.ts';
import { launchBrowser, type Browser } from '../../../support/browser.ts';
import { enterDeviceCode } from '../../../support/device-approval.ts';
import { deviceCodePrinted as codePrinted, demoCliEnv, JWT, runCli, startCli, type CliResult } from '../../helpers/cli.ts';
import { startTestDemo } from '../../helpers/demo.ts';

/** RFC 8628 §3.4. */
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('latchkey login with a code', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let dataDir: string;
  const service = `latchkey-test-cli-device-${randomUUID()}`;

  beforeAll(async () => {
    [demo, browser, dataDir] = await Promise.all([startTestDemo({ accessTokenTtl: 30 }), launchBrowser(), mkdtemp(join(tmpdir(), 'latchkey-cli-device-'))]);
  });
  afterAll(async () => {
    await keytar.deletePassword(service, keychainAccount(loadConfig({ env: env() }))).catch(() => false);
    await Promise.all([demo?.close(), browser?.close(), rm(dataDir, { recursive: true, force: true })]);
  });

  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);
  /** The demo API's answer to a call with the headers `latchkey headers` prints (a device sign-in is DPoP-bound: the demo offers DPoP). */
  const apiStatus = async () => {
    const printed = await runCli(['headers', `${demo.apiUrl}/me`], env());
    expect(printed.stdout).toMatch(/^Authorization: DPoP /);
    const headers = Object.fromEntries(printed.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
    return (await fetch(`${demo.apiUrl}/me`, { headers })).status;
  };

  it('`login --device` prints the address and the code on lines of their own, says who asked, and exits 0 once approved; token and refresh then work', async () => {
    const { child, result } = startCli(['login', '--device'], env());
    const shown = await codePrinted(child);
    expect(shown.verificationUri).toBe(`${demo.issuer}/device`);
    expect(shown.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(shown.complete).toBe(`${demo.issuer}/device?user_code=${shown.userCode}`);
    await enterDeviceCode(browser, shown.verificationUri, shown.userCode);
    const login: CliResult = await result;
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Latchkey (client ${loadConfig({ env: env() }).clientId}) asked ${demo.issuer}/ for this code.`);
    expect(login.stdout).toMatch(/expires at \d\d:\d\d \(in 10 minutes\)/);
    // Not a terminal: no QR code in the output a script reads.
    expect(login.stdout).not.toMatch(/[█▀▄]/);
    expect(login.stdout).toMatch(/Signed in as Alice Liddell \(alice\)\n$/);

    const token = await runCli(['token'], env());
    expect(token.stdout.trim()).toMatch(JWT);
    expect(await apiStatus()).toBe(200);
    const refreshed = await runCli(['token', '--refresh'], env());
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout.trim()).not.toBe(token.stdout.trim());
    expect(await apiStatus()).toBe(200);
    expect((await runCli(['logout'], env())).code).toBe(0);
  });

  it('`login` with a browser that cannot start says why in one line and signs in with a code instead', async () => {
    const { child, result } = startCli(['login'], env({ BROWSER: 'false' }));
    const shown = await codePrinted(child);
    await enterDeviceCode(browser, shown.verificationUri, shown.userCode);
    const login = await result;
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('No browser could be opened ($BROWSER (false) failed (exit code 1)); signing in with a code instead.\n');
    expect(login.stdout).toMatch(/Signed in as Alice Liddell \(alice\)\n$/);
    expect((await runCli(['status'], env())).code).toBe(0);
    expect((await runCli(['logout'], env())).code).toBe(0);
  });

  it('a code declined at the provider ends `login --device` with exit 1 and says so', async () => {
    const { child, result } = startCli(['login', '--device'], env());
    const shown = await codePrinted(child);
    await enterDeviceCode(browser, shown.verificationUri, shown.userCode, { answer: 'abort' });
    const login = await result;
    expect(login.code).toBe(1);
    expect(login.stderr).toContain(`The sign-in with code ${shown.userCode} was declined at 127.0.0.1`);
    expect((await runCli(['status'], env())).code).toBe(1);
  });

  it('Ctrl-C while waiting for the code ends the command at once and the polling with it', async () => {
    const { child, result } = startCli(['login', '--device'], env());
    await codePrinted(child);
    const polls = demo.stats.tokenRequestsByGrant[DEVICE_CODE_GRANT] ?? 0;
    const interruptedAt = performance.now();
    child.kill('SIGINT');
    const login = await result;
    expect(login.code).toBe(130);
    // The first poll is the provider's 5 s interval after the code was printed: a command that waited for
    // it before hearing Ctrl-C would end only then.
    expect(performance.now() - interruptedAt).toBeLessThan(3_000);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect(demo.stats.tokenRequestsByGrant[DEVICE_CODE_GRANT] ?? 0).toBe(polls);
  });

  /** Runs `latchkey args…` and how long it took; a command still waiting after `giveUpMs` is killed (then its code is null). */
  const timed = async (args: string[], extra: NodeJS.ProcessEnv, giveUpMs: number) => {
    const startedAt = performance.now();
    const { child, result } = startCli(args, env(extra));
    const giveUp = setTimeout(() => child.kill('SIGKILL'), giveUpMs);
    const done = await result;
    clearTimeout(giveUp);
    return { ...done, ms: performance.now() - startedAt };
  };

  it('`login --device --timeout 3` ends after about 3 s with the timeout (exit 1), long before the code expires', async () => {
    const login = await timed(['login', '--device', '--timeout', '3'], {}, 20_000);
    expect(login.stdout).toMatch(/expires at \d\d:\d\d \(in 10 minutes\)/);
    expect(login.stderr).toContain('The sign-in was not completed within 3 seconds. Sign in again when you are ready.');
    expect(login.code).toBe(1);
    // Generous for a busy machine: the process's own start-up and discovery come before the 3 s.
    expect(login.ms).toBeGreaterThanOrEqual(3_000);
    expect(login.ms).toBeLessThan(8_000);
  });

  it('`login --timeout 4` falling back to a code keeps what is left of the 4 s', async () => {
    const login = await timed(['login', '--timeout', '4'], { BROWSER: 'false' }, 20_000);
    expect(login.stderr).toContain('signing in with a code instead.');
    expect(login.stderr).toMatch(/The sign-in was not completed within [1-4] seconds\./);
    expect(login.code).toBe(1);
    expect(login.ms).toBeGreaterThanOrEqual(4_000);
    expect(login.ms).toBeLessThan(9_000);
  });

  it('on a terminal the prompt carries a QR code of the address with the code in it', () => {
    const prompt = { userCode: 'WDJB-MJHT', verificationUri: 'https://id.example/device', verificationHost: 'id.example', verificationUriComplete: 'https://id.example/device?user_code=WDJB-MJHT', expiresAt: Date.UTC(2026, 0, 1, 12, 10), issuer: 'https://id.example/', clientId: 'latchkey' };
    const onTerminal = describeDeviceCode(prompt, { terminal: true, now: Date.UTC(2026, 0, 1, 12, 0) });
    const piped = describeDeviceCode(prompt, { terminal: false, now: Date.UTC(2026, 0, 1, 12, 0) });
    const qrLines = onTerminal.split('\n').filter((line) => /^[█▀▄ ]+$/.test(line) && line.trim() !== '');
    // A version-3 QR code or larger (the address is 44 characters) drawn two rows per line.
    expect(qrLines.length).toBeGreaterThanOrEqual(14);
    expect(piped).not.toMatch(/[█▀▄]/);
    for (const text of [onTerminal, piped]) {
      expect(text.split('\n')).toEqual(expect.arrayContaining(['https://id.example/device', 'WDJB-MJHT', 'https://id.example/device?user_code=WDJB-MJHT']));
      // The site on a line of its own, before the address: what a person checks is their provider's.
      expect(text.split('\n').slice(0, 3)).toEqual(["The sign-in page is on this site (check that it is your provider's):", 'id.example', 'To sign in, open this address on any device:']);
      expect(text).toContain('Latchkey (client latchkey) asked https://id.example/ for this code.');
      expect(text).toContain('(in 10 minutes)');
    }
  });
});
