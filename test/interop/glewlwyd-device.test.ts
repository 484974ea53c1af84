// Sign-in with a code (RFC 8628) against Glewlwyd (Debian glewlwyd 2.7, C, sqlite) — a provider nobody
// here wrote — with its device authorization turned on through its admin API (glewlwyd.ts), the code
// entered on its own pages in Chromium, and the real `latchkey` CLI and OS keychain.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { launchBrowser, type Browser } from '../../support/browser.ts';
import { approveDeviceCodeOnGlewlwyd } from '../../support/glewlwyd-signin.ts';
import { deviceCodePrinted, runCli, startCli } from '../helpers/cli.ts';
import { GLEWLWYD_BIN, startGlewlwyd, type GlewlwydServer } from './glewlwyd.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const missing = [GLEWLWYD_BIN, CHROMIUM].find((path) => !existsSync(path));

if (missing) {
  it.skip(`Glewlwyd sign-in with a code: skipped, ${missing} is not installed`, () => {});
} else {
  describe('sign-in with a code against Glewlwyd 2.7', () => {
    let glewlwyd: GlewlwydServer;
    let browser: Browser;
    let scratch: string;
    const service = `latchkey-test-glewlwyd-device-${randomUUID()}`;

    beforeAll(async () => {
      [glewlwyd, browser, scratch] = await Promise.all([startGlewlwyd({ deviceAuthorization: true }), launchBrowser(), mkdtemp(join(tmpdir(), 'latchkey-glewlwyd-device-'))]);
    });
    afterAll(async () => {
      if (glewlwyd) await keytar.deletePassword(service, keychainAccount(loadConfig({ env: env() }))).catch(() => false);
      await Promise.all([glewlwyd?.stop(), browser?.close(), scratch && rm(scratch, { recursive: true, force: true })]);
    });

    const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      AUTH_ISSUER: glewlwyd.issuer,
      AUTH_CLIENT_ID: glewlwyd.clientId,
      AUTH_REDIRECT_PORT: String(glewlwyd.redirectPort),
      AUTH_KEYCHAIN_SERVICE: service,
      AUTH_DATA_DIR: join(scratch, 'data'),
      ...extra,
    });
    const userinfoStatus = async (token: string) => (await fetch(`${glewlwyd.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } })).status;

    async function approve(child: ReturnType<typeof startCli>['child']): Promise<void> {
      const shown = await deviceCodePrinted(child);
      expect(shown.verificationUri).toBe(`${glewlwyd.issuer}/device`);
      expect(shown.complete).toBe(`${glewlwyd.issuer}/device?code=${shown.userCode}`);
      const context = await browser.newContext();
      try {
        expect(await approveDeviceCodeOnGlewlwyd(await context.newPage(), shown.verificationUri, shown.userCode, { username: glewlwyd.username, password: glewlwyd.password })).toContain('Authorization complete');
      } finally {
        await context.close();
      }
    }

    it('`login --device` signs in once the code is approved on Glewlwyd; token, refresh (one-time refresh tokens) and logout then work as after a browser sign-in', async () => {
      const { child, result } = startCli(['login', '--device'], env());
      await approve(child);
      const login = await result;
      expect(login.code).toBe(0);
      expect(login.stdout).toContain(`Latchkey (client ${glewlwyd.clientId}) asked ${glewlwyd.issuer} for this code.`);
      expect(login.stdout).toMatch(/Signed in as Alice Liddell \([\w-]+\)\n$/);

      const token = (await runCli(['token'], env())).stdout.trim();
      expect(await userinfoStatus(token)).toBe(200);
      const stored = await keytar.getPassword(service, keychainAccount(loadConfig({ env: env() })));
      const refreshed = await runCli(['token', '--refresh'], env());
      expect(refreshed.code).toBe(0);
      expect(refreshed.stdout.trim()).not.toBe(token);
      expect(await userinfoStatus(refreshed.stdout.trim())).toBe(200);
      // Glewlwyd rotates one-time refresh tokens: the rotated one was stored.
      expect(await keytar.getPassword(service, keychainAccount(loadConfig({ env: env() })))).not.toBe(stored);
      expect(glewlwyd.refreshTokenStats().deadChains).toBe(0);
      expect((await runCli(['logout'], env())).code).toBe(0);
    });

    it('`login` where Glewlwyd refuses the loopback redirect (no fixed port registered) says why in one line and signs in with a code, opening no browser', async () => {
      const marker = join(scratch, 'opened');
      const opener = join(scratch, 'browser.sh');
      await writeFile(opener, `#!/bin/sh\ntouch '${marker}'\n`);
      await chmod(opener, 0o755);
      const { child, result } = startCli(['login'], env({ AUTH_REDIRECT_PORT: '', BROWSER: opener }));
      await approve(child);
      const login = await result;
      expect(login.code).toBe(0);
      expect(login.stderr).toBe('The provider refused the loopback redirect of a browser sign-in; signing in with a code instead.\n');
      expect(login.stdout).toMatch(/Signed in as Alice Liddell \([\w-]+\)\n$/);
      expect(existsSync(marker)).toBe(false);
      expect((await runCli(['status'], env())).code).toBe(0);
      expect((await runCli(['logout'], env())).code).toBe(0);
    });
  });
}
