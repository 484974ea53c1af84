// The provider stand-ins' journeys, each declared by its settings: the stand-in and how it starts,
// the settings a person writes for that provider, what doctor and logout say, and the provider's own
// answer to a dead refresh token. The CLI's whole journey (test/interop/cli-journey.ts) runs against
// the stand-in with real Chromium as the browser, then the provider's own steps, then the dead-token
// step: the provider's answer ends the session (token exits 1 with the provider's words and "Sign in
// again", status exits 1).
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/demo.ts';
import { FAKE_BROWSER } from '../helpers/cli.ts';
import { describeCliJourney, HAVE_CHROMIUM, useCliJourney, type Journey, type ProviderUnderTest } from '../interop/cli-journey.ts';
import { ALICE, type Standin, type StandinUser } from './standins/standin.ts';

export interface StandinJourney {
  /** The `describe` title: which provider, and how it is set up. */
  title: string;
  /** Starts the stand-in; `port` is a free loopback port, for providers that match the callback URL exactly. */
  start(port: number): Promise<Standin>;
  /** The settings a person writes for this provider (AUTH_PROVIDER, AUTH_ISSUER, AUTH_CLIENT_ID, …). */
  env(standin: Standin, port: number): Record<string, string>;
  /** Who signs in (default ALICE). */
  user?: StandinUser;
  /** A second user of the stand-in, signed in beside the first as another account (`accounts`, `--account`, `logout` of one). */
  secondUser?: StandinUser;
  /** The prompt values a sign-in that adds a second account sends (the preset's account chooser). */
  chooserPrompt?: string;
  /** The authorization request's hint at the account renewed by `login --account`: its parameter and value. */
  loginHint?: [string, string];
  /** False for a provider that keeps the refresh token on a refresh (default true). */
  rotates?: boolean;
  /** doctor's lines that must be there. */
  doctorSays?: RegExp[];
  /** What `logout` prints on stderr (default nothing: the provider revoked). */
  logoutSays?: RegExp;
  /** The whole sentence the CLI says when the provider refuses a dead refresh token; absent for a provider that issues none. */
  deadTokenSays?: string;
  /**
   * False for a provider that issues no refresh token (a GitHub OAuth App): the whole journey's refresh
   * steps cannot apply, so only `steps` run, with the same CLI, keychain service and data folder.
   */
  wholeJourney?: boolean;
  /** What is special about this provider: its own steps, after the journey and before the dead-token step. */
  steps?(journey: Journey, standin: () => Standin): void;
}

/** Declares the journey of one provider stand-in (skipped, saying so, where Chromium is not installed). */
export function describeStandinJourney(settings: StandinJourney): void {
  if (!HAVE_CHROMIUM) {
    it.skip(`${settings.title}: skipped, Chromium is not installed`, () => {});
    return;
  }
  let standin: Standin;
  const user = settings.user ?? ALICE;
  const start = async (): Promise<ProviderUnderTest> => {
    const port = await freePort();
    standin = await settings.start(port);
    return {
      env: settings.env(standin, port),
      browser: FAKE_BROWSER,
      user: { login: user.login, password: user.password, name: user.name, email: user.email },
      ...(settings.rotates === undefined ? {} : { rotates: settings.rotates }),
      accessTokenWorks: (token) => standin.accessTokenWorks(token),
      reuseSeen: () => standin.reuseSeen(),
      doctorSays: settings.doctorSays ?? [],
      logoutSays: settings.logoutSays ?? /^$/,
      stop: () => standin.stop(),
    };
  };
  const providerSteps = (journey: Journey) => {
    settings.steps?.(journey, () => standin);
    if (settings.secondUser) itKeepsTwoAccounts(journey, () => standin, user, settings.secondUser, settings);
    if (settings.deadTokenSays !== undefined) itEndsTheSessionOnTheDeadTokenAnswer(journey, () => standin, settings.deadTokenSays);
  };
  if (settings.wholeJourney === false) {
    describe(settings.title, () => providerSteps(useCliJourney(start)));
  } else {
    describeCliJourney(settings.title, start, providerSteps);
  }
}

/**
 * Two users of the provider signed in as two accounts: both listed, each refreshed with its own token, the
 * second's sign-in asking for the preset's account chooser and a renewal hinting at its account; logging out
 * of one leaves the other working.
 */
function itKeepsTwoAccounts(journey: Journey, standin: () => Standin, first: StandinUser, second: StandinUser, settings: Pick<StandinJourney, 'chooserPrompt' | 'loginHint'>): void {
  it('two accounts: both signed in and listed, each refreshed with its own token, one logged out while the other keeps working', async () => {
    const as = (user: StandinUser) => ({ LATCHKEY_TEST_LOGIN: user.login, LATCHKEY_TEST_PASSWORD: user.password });
    expect((await journey.cli(['logout', '--all'])).code).toBe(0);
    const one = await journey.cli(['login', '--timeout', '60'], as(first));
    expect(one.code, one.stderr).toBe(0);
    const two = await journey.cli(['login', '--timeout', '60'], as(second));
    expect(two.code, two.stderr).toBe(0);
    if (settings.chooserPrompt !== undefined) expect(standin().authorizationRequests.at(-1)?.get('prompt')).toBe(settings.chooserPrompt);
    const listed = JSON.parse((await journey.cli(['accounts', '--json'])).stdout) as Array<{ sub: string; default: boolean }>;
    expect(listed.map((account) => [account.sub, account.default])).toEqual([
      [first.sub, false],
      [second.sub, true],
    ]);
    for (const user of [first, second]) {
      const token = await journey.cli(['token', '--refresh', '--account', user.sub]);
      expect(token.code, token.stderr).toBe(0);
      expect(await standin().accessTokenWorks(token.stdout.trim())).toBe(true);
      const status = JSON.parse((await journey.cli(['status', '--json', '--account', user.sub])).stdout) as { user: { sub: string; email?: string } };
      expect(status.user.sub).toBe(user.sub);
    }
    expect(standin().reuseSeen()).toBe(false);
    if (settings.loginHint !== undefined) {
      const renewed = await journey.cli(['login', '--account', first.sub, '--timeout', '60'], as(first));
      expect(renewed.code, renewed.stderr).toBe(0);
      expect(standin().authorizationRequests.at(-1)?.get(settings.loginHint[0])).toBe(settings.loginHint[1]);
    }
    const logout = await journey.cli(['logout', '--account', first.sub]);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toMatch(/is no longer signed in here\. The default account is now /);
    const still = await journey.cli(['token', '--refresh']);
    expect(still.code, still.stderr).toBe(0);
    expect(await standin().accessTokenWorks(still.stdout.trim())).toBe(true);
    expect((JSON.parse((await journey.cli(['accounts', '--json'])).stdout) as Array<{ sub: string }>).map((account) => account.sub)).toEqual([second.sub]);
    expect((await journey.cli(['logout', '--all'])).code).toBe(0);
    // Three sign-ins through Chromium and a dozen CLI processes: well past the default on a loaded machine.
  }, 180_000);
}

/**
 * Signs in again, has the provider end every session (the user revokes the app, or changes the
 * password), and checks the next refresh ends the session here with exactly `says`.
 */
function itEndsTheSessionOnTheDeadTokenAnswer(journey: Journey, standin: () => Standin, says: string): void {
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
