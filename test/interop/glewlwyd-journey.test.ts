// The CLI's whole journey against Glewlwyd (Debian glewlwyd, C, sqlite): an
// OpenID provider nobody here wrote, with one-time refresh tokens, reuse
// detection, exact redirect URI matching and its own quirks (see glewlwyd.ts).
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { GLEWLWYD_BIN, startGlewlwyd } from './glewlwyd.ts';
import type { GlewlwydServer } from './glewlwyd.ts';
import { CHROMIUM, describeCliJourney } from './cli-journey.ts';
import { statusWithToken } from '../helpers/api-call.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const missing = [GLEWLWYD_BIN, CHROMIUM].find((path) => !existsSync(path));
const REFUSED_REDIRECT = /The provider refused the redirect URI http:\/\/127\.0\.0\.1:\d+\/callback \(HTTP 403\): it matches redirect URIs exactly, port included, so a new port per sign-in cannot work\. Register http:\/\/127\.0\.0\.1:53682\/callback at the provider and set AUTH_REDIRECT_PORT=53682\./;

if (missing) {
  it.skip(`Glewlwyd CLI journey: skipped, ${missing} is not installed`, () => {});
} else {
  let glewlwyd: GlewlwydServer;
  describeCliJourney(
    'the CLI against Glewlwyd 2.7',
    async () => {
      glewlwyd = await startGlewlwyd({ accessTokenTtlSeconds: 60 });
      const userinfo = `${glewlwyd.issuer}/userinfo`;
      return {
        // UserInfo is the API here: `headers` gives credentials only for URLs under API_BASE_URL.
        env: { AUTH_ISSUER: glewlwyd.issuer, AUTH_CLIENT_ID: glewlwyd.clientId, AUTH_REDIRECT_PORT: String(glewlwyd.redirectPort), API_BASE_URL: userinfo },
        browser: `${process.execPath} ${join(root, 'support/glewlwyd-browser-command.ts')}`,
        user: { login: glewlwyd.username, password: glewlwyd.password, name: glewlwyd.name, email: glewlwyd.email },
        accessTokenWorks: async (token, entry) => (await statusWithToken(userinfo, token, entry)) === 200,
        apiCallUrl: userinfo,
        // Glewlwyd offers DPoP only with oauth-dpop-allowed, which this client's plugin leaves off: a bearer session.
        bindsTokens: false,
        reuseSeen: () => {
          const stats = glewlwyd.refreshTokenStats();
          return stats.deadChains !== 0 || stats.refusedRefreshes !== 0;
        },
        doctorSays: [/^! Refresh token grant: not advertised \(grant_types_supported: authorization_code, implicit\); tried at sign-in$/m, /^! Public client: /m],
        logoutSays: /^Signed out on this computer only: the provider refused to revoke the session \(HTTP 401\)\. It stays valid at the provider until it expires\.$/,
        stop: () => glewlwyd.stop(),
      };
    },
    (journey) => {
      it('without AUTH_REDIRECT_PORT, doctor and login both say to register a fixed port — before any browser opens', async () => {
        const scratch = await mkdtemp(join(tmpdir(), 'latchkey-browser-'));
        const marker = join(scratch, 'opened');
        const browser = join(scratch, 'browser.sh');
        await writeFile(browser, `#!/bin/sh\ntouch '${marker}'\n`);
        await chmod(browser, 0o755);
        try {
          const doctor = await journey.cli(['doctor'], { AUTH_REDIRECT_PORT: '' });
          expect(doctor.code).toBe(2);
          expect(doctor.stdout).toMatch(new RegExp(`^✗ Redirect URI accepted: ${REFUSED_REDIRECT.source}$`, 'm'));
          const startedAt = Date.now();
          const login = await journey.cli(['login', '--timeout', '60'], { AUTH_REDIRECT_PORT: '', BROWSER: browser });
          expect(login.code).toBe(2);
          expect(login.stderr).toMatch(REFUSED_REDIRECT);
          expect(Date.now() - startedAt).toBeLessThan(15_000);
          expect(existsSync(marker)).toBe(false);
        } finally {
          await rm(scratch, { recursive: true, force: true });
        }
      });

      it('a spent refresh token (HTTP 400, empty body) ends the session: token exits 1 saying the provider refused it, status exits 1', async () => {
        expect((await journey.cli(['login', '--timeout', '60'])).code).toBe(0);
        const stored = (await journey.storedRefreshToken())!;
        // Someone else redeems the stored token first: Glewlwyd rotates it, so Latchkey's copy is spent.
        const redeemed = await fetch(`${glewlwyd.issuer}/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stored, client_id: glewlwyd.clientId }),
        });
        expect(redeemed.status).toBe(200);
        const token = await journey.cli(['token', '--refresh']);
        expect(token.code).toBe(1);
        expect(token.stdout).toBe('');
        expect(token.stderr.trim()).toBe('Your session ended at the provider: it refused the refresh (HTTP 400, without an explanation). Sign in again.');
        expect(await journey.storedRefreshToken()).toBeNull();
        expect((await journey.cli(['status'])).code).toBe(1);
      });
    },
  );
}
