// The access token every process of a session shares is tied to the user it was issued to and to the
// session entry's generation, with the real demo provider, CLI processes and the OS keychain: an app
// restored as one user never hands out the token another user signed in with in a terminal, nor a
// cached token the entry has moved on from.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthSession, createLogger, keychainAccount, loadConfig } from '../../../src/core/index.ts';
import { defaultLockDir } from '../../../src/core/entry/lock-folder.ts';
import { entryLockPath } from '../../../src/core/entry/lock.ts';
import { announceEntryChange } from '../../../src/core/entry/lock.ts';
import { startTestDemo } from '../../helpers/demo.ts';
import { demoCliEnv, startCli } from '../../helpers/cli.ts';

const BOB = { LATCHKEY_TEST_LOGIN: 'bob', LATCHKEY_TEST_PASSWORD: 'builder' };

function subOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
}

describe('the shared access token is for one user and one generation of the session', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  const service = `latchkey-test-shared-owner-${randomUUID()}`;
  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);
  const config = () => loadConfig({ env: env() });
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => startCli(args, env(extra)).result;
  /** The first account's entry (alice's: she signs in first), and bob's, an account of his own beside it. */
  const aliceEntry = () => keychainAccount(config());
  const bobEntry = () => `${keychainAccount(config())}#sub:bob`;
  /** The shared access token: in the account's entry, or in its own entry when it did not fit there. */
  const cachedToken = async (entry = aliceEntry()) => {
    const raw = await keytar.getPassword(service, entry);
    const access = raw === null ? undefined : (JSON.parse(raw) as { access?: { access_token: string } | string }).access;
    if (access === 'own-entry') return (JSON.parse((await keytar.getPassword(service, `${entry}#access-token`))!) as { access_token: string }).access_token;
    return typeof access === 'object' ? access.access_token : undefined;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-shared-owner-'));
    demo = await startTestDemo({ accessTokenTtl: 120 });
  });
  afterAll(async () => {
    for (const entry of [aliceEntry(), bobEntry()]) {
      await keytar.deletePassword(service, entry);
      await keytar.deletePassword(service, `${entry}#access-token`);
    }
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const login = await cli(['login', '--timeout', '60']);
    expect(login.code, login.stderr).toBe(0);
  });

  it('an app restored as alice, after `latchkey login` as bob in a terminal, stays alice’s and never calls with bob’s token', async () => {
    const app = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }) });
    try {
      const alice = app.getState().user?.sub;
      expect(alice).toBe('alice');
      const bob = await cli(['login', '--timeout', '60'], BOB);
      expect(bob.code, bob.stderr).toBe(0);
      // Bob is an account of his own now, in an entry of his own: alice's session is still there, untouched.
      const bobToken = (await cachedToken(bobEntry()))!;
      expect(subOf(bobToken)).toBe('bob');

      const token = await app.getAccessToken();
      expect(subOf(token)).toBe(alice);
      expect(app.getState().user?.sub).toBe(alice);
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('a cached token stored before the entry last changed is not handed out, though it is for the same user', async () => {
    const stale = (await cachedToken())!;
    // Another process announced a change of the entry (a sign-in or refresh under way) after that token was stored.
    announceEntryChange(entryLockPath(defaultLockDir(), config().keychainService, keychainAccount(config())));
    const app = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }) });
    try {
      const token = await app.getAccessToken();
      expect(token).not.toBe(stale);
      expect(subOf(token)).toBe(subOf(stale));
      expect(demo.stats.reuseDetected).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);
});
