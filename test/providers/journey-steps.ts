// What every provider journey adds to test/interop/cli-journey.ts: the provider's own answer to a dead
// refresh token ends the session (token exits 1 with the provider's words and "Sign in again", status
// exits 1), and the stand-in's users and browser.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Journey } from '../interop/cli-journey.ts';
import type { Standin, StandinUser } from './standins/standin.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Real Chromium filling in the stand-in's login form (support/browser-command.ts). */
export const BROWSER = `${process.execPath} ${join(root, 'support/browser-command.ts')}`;

export const ALICE: StandinUser = { login: 'alice', password: 'wonderland', sub: '1001', name: 'Alice Liddell', email: 'alice@example.com' };

/** The journey's user, as cli-journey.ts wants it. */
export function journeyUser(user: StandinUser): { login: string; password: string; name: string; email: string } {
  return { login: user.login, password: user.password, name: user.name, email: user.email };
}

/**
 * Signs in again, has the provider end every session (the user revokes the app, or changes the
 * password), and checks the next refresh ends the session here with exactly `says`.
 */
export function itEndsTheSessionOnTheDeadTokenAnswer(journey: Journey, standin: () => Standin, says: string): void {
  it('the provider’s own answer to a dead refresh token ends the session: token exits 1 with its words and "Sign in again", status exits 1', async () => {
    const login = await journey.cli(['login', '--timeout', '60']);
    expect(login.code, login.stderr).toBe(0);
    expect(await journey.storedRefreshToken()).toEqual(expect.any(String));
    standin().endAllSessions();
    const token = await journey.cli(['token', '--refresh']);
    expect(token.code).toBe(1);
    expect(token.stdout).toBe('');
    expect(token.stderr.trim()).toBe(says);
    expect(await journey.storedRefreshToken()).toBeNull();
    const status = await journey.cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^Not signed in/);
  });
}
