// Several accounts from the command line, end to end: the real `latchkey` processes, the demo provider, Chromium
// signing in as alice and as bob, and the OS keychain. The contract of docs/command-line.md#accounts.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import keytar from 'keytar';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLockDir, keychainAccount, loadConfig } from '../../src/core/index.ts';
import { forgetSessionEntries, issuedSecrets, startTestDemo } from '../helpers/demo.ts';
import { statusWithToken } from '../helpers/api-call.ts';
import { demoCliEnv, JWT, runCli, type CliResult } from '../helpers/cli.ts';
import { entrySecrets, findLeaks, readFolders, type Captured } from '../helpers/leaks.ts';

const ALICE = { LATCHKEY_TEST_LOGIN: 'alice', LATCHKEY_TEST_PASSWORD: 'wonderland' };
const BOB = { LATCHKEY_TEST_LOGIN: 'bob', LATCHKEY_TEST_PASSWORD: 'builder' };

function subOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
}

interface ListedAccount {
  name: string;
  sub: string;
  user: { name: string | null; email: string | null };
  default: boolean;
  standsOn: string | null;
  keychain: string;
}

describe('several accounts from the command line (demo provider, Chromium, OS keychain)', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  const service = `latchkey-test-accounts-${randomUUID()}`;
  const outputs: Captured[] = [];
  const secrets = new Set<string>();
  const env = (extra: NodeJS.ProcessEnv = {}) => demoCliEnv(demo, { service, dataDir }, extra);
  const config = () => loadConfig({ env: env() });
  /** alice signs in first: hers is the entry earlier versions used; bob's is one of his own. */
  const entryOf = (sub: 'alice' | 'bob') => (sub === 'alice' ? keychainAccount(config()) : `${keychainAccount(config())}#sub:bob`);
  const cli = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const result = await runCli(args, env(extra));
    outputs.push({ name: `stdout of latchkey ${args.join(' ')}`, text: result.stdout }, { name: `stderr of latchkey ${args.join(' ')}`, text: result.stderr });
    return result;
  };
  const listed = async (): Promise<ListedAccount[]> => {
    const result = await cli(['accounts', '--json']);
    return JSON.parse(result.stdout) as ListedAccount[];
  };
  const noteSecrets = async () => {
    for (const sub of ['alice', 'bob'] as const) for (const secret of entrySecrets(await keytar.getPassword(service, entryOf(sub)))) secrets.add(secret);
  };
  const worksAtApi = async (token: string, sub: 'alice' | 'bob') => statusWithToken(`${demo.apiUrl}/me`, token, { service, account: entryOf(sub) });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-accounts-'));
    demo = await startTestDemo({ accessTokenTtl: 600 });
    const alice = await cli(['login', '--timeout', '60'], ALICE);
    expect(alice.code, alice.stderr).toBe(0);
    const bob = await cli(['login', '--timeout', '60'], BOB);
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stdout).toMatch(/^Signed in as Bob Builder \(bob\)\nbob@example.com is the default account now; one other account is still signed in/);
    await noteSecrets();
  }, 120_000);

  afterAll(async () => {
    for (const sub of ['alice', 'bob'] as const) await forgetSessionEntries(service, entryOf(sub));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('`accounts --json` lists alice and bob, bob (the last signed in) the default', async () => {
    expect(await listed()).toEqual([
      { name: 'alice@example.com', sub: 'alice', user: { name: 'Alice Liddell', email: 'alice@example.com' }, default: false, standsOn: 'refresh_token', keychain: 'os' },
      { name: 'bob@example.com', sub: 'bob', user: { name: 'Bob Builder', email: 'bob@example.com' }, default: true, standsOn: 'refresh_token', keychain: 'os' },
    ]);
    const text = await cli(['accounts']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}alice@example.com — Alice Liddell \(alice\)\n\* bob@example.com — Bob Builder \(bob\)\n/);
  });

  it('`token --account`, LATCHKEY_ACCOUNT and the default each print their own user’s token, which works at the API', async () => {
    const byName = await cli(['token', '--account', 'alice@example.com']);
    const bySub = await cli(['token', '--account', 'alice']);
    const fromEnvironment = await cli(['token'], { LATCHKEY_ACCOUNT: 'alice' });
    const byDefault = await cli(['token']);
    for (const result of [byName, bySub, fromEnvironment, byDefault]) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(JWT);
    }
    for (const alice of [byName, bySub, fromEnvironment]) expect(subOf(alice.stdout.trim())).toBe('alice');
    expect(subOf(byDefault.stdout.trim())).toBe('bob');
    expect(await worksAtApi(byName.stdout.trim(), 'alice')).toBe(200);
    expect(await worksAtApi(byDefault.stdout.trim(), 'bob')).toBe(200);
    // --account wins over LATCHKEY_ACCOUNT.
    const both = await cli(['token', '--account', 'bob@example.com'], { LATCHKEY_ACCOUNT: 'alice' });
    expect(subOf(both.stdout.trim())).toBe('bob');
    const status = JSON.parse((await cli(['status', '--json'], { LATCHKEY_ACCOUNT: 'alice@example.com' })).stdout) as { account: string; user: { sub: string } };
    expect(status).toMatchObject({ account: 'alice@example.com', user: { sub: 'alice' } });
  });

  it('4 + 4 concurrent `token --refresh` for the two accounts all succeed, each with its own user’s token, and the provider sees no reuse', async () => {
    const before = demo.stats.tokenRequests;
    const runs = await Promise.all([
      ...Array.from({ length: 4 }, () => cli(['token', '--refresh', '--account', 'alice@example.com']).then((result) => ({ result, sub: 'alice' as const }))),
      ...Array.from({ length: 4 }, () => cli(['token', '--refresh'], { LATCHKEY_ACCOUNT: 'bob' }).then((result) => ({ result, sub: 'bob' as const }))),
    ]);
    for (const { result, sub } of runs) {
      expect(result.code, result.stderr).toBe(0);
      expect(subOf(result.stdout.trim())).toBe(sub);
    }
    expect(demo.stats.reuseDetected).toBe(0);
    // Each process refreshed or took the token another one had just refreshed for the same account: never more requests than processes.
    expect(demo.stats.tokenRequests - before).toBeGreaterThanOrEqual(2);
    expect(demo.stats.tokenRequests - before).toBeLessThanOrEqual(8);
    const last = { alice: runs.filter((run) => run.sub === 'alice').at(-1)!, bob: runs.filter((run) => run.sub === 'bob').at(-1)! };
    await noteSecrets();
    expect(await worksAtApi((await cli(['token', '--account', 'alice'])).stdout.trim(), 'alice')).toBe(200);
    expect(await worksAtApi((await cli(['token', '--account', 'bob'])).stdout.trim(), 'bob')).toBe(200);
    expect(last.alice.result.stdout).not.toBe(last.bob.result.stdout);
  }, 120_000);

  it('`login --account bob` that comes back as another user is refused, naming both, and changes nothing', async () => {
    const before = { alice: await keytar.getPassword(service, entryOf('alice')), bob: await keytar.getPassword(service, entryOf('bob')), accounts: await listed() };
    // The demo has no third user: alice stands in for "someone else" signing in at the provider.
    const refused = await cli(['login', '--account', 'bob@example.com', '--timeout', '60'], ALICE);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('signed in at the provider as alice@example.com');
    expect(refused.stderr).toContain('the account to renew is bob@example.com');
    expect(await keytar.getPassword(service, entryOf('alice'))).toBe(before.alice);
    expect(await keytar.getPassword(service, entryOf('bob'))).toBe(before.bob);
    expect(await listed()).toEqual(before.accounts);
    // The right user renews it.
    const renewed = await cli(['login', '--account', 'bob', '--timeout', '60'], BOB);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(await keytar.getPassword(service, entryOf('bob'))).not.toBe(before.bob);
    expect(await keytar.getPassword(service, entryOf('alice'))).toBe(before.alice);
    await noteSecrets();
  }, 120_000);

  it('`switch` changes the default; an unknown account is refused by name', async () => {
    expect((await cli(['switch', 'alice@example.com'])).code).toBe(0);
    expect(subOf((await cli(['token'])).stdout.trim())).toBe('alice');
    expect((await cli(['switch', 'bob'])).code).toBe(0);
    expect(subOf((await cli(['token'])).stdout.trim())).toBe('bob');
    const unknown = await cli(['token', '--account', 'carol@example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account "carol@example.com" is signed in');
    expect(unknown.stderr).toContain('alice@example.com, bob@example.com');
    expect((await cli(['switch', 'carol'])).code).toBe(1);
  });

  it('`logout --account alice` leaves bob working and says which account is the default; `logout --all` ends the rest', async () => {
    const logout = await cli(['logout', '--account', 'alice']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toMatch(/^Signed out\.\nalice@example.com is no longer signed in here\. The default account is now bob@example.com\.\n/);
    expect(await keytar.getPassword(service, entryOf('alice'))).toBeNull();
    const bob = await cli(['token']);
    expect(bob.code, bob.stderr).toBe(0);
    expect(await worksAtApi(bob.stdout.trim(), 'bob')).toBe(200);
    expect((await listed()).map((account) => account.name)).toEqual(['bob@example.com']);
    expect((await cli(['token', '--account', 'alice'])).code).toBe(1);

    const all = await cli(['logout', '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('No account is signed in now.');
    expect(await keytar.getPassword(service, entryOf('bob'))).toBeNull();
    const none = await cli(['accounts']);
    expect(none.code).toBe(1);
    expect(await listed()).toEqual([]);
  });

  it('no token of either account appears outside the keychain: data folder, account index, outputs', async () => {
    const issued = [...issuedSecrets()];
    expect(secrets.size).toBeGreaterThan(3);
    const tokenFreeOutputs = outputs.filter((output) => !JWT.test(output.text.trim()));
    const places = [...(await readFolders(dataDir, defaultLockDir())), ...tokenFreeOutputs];
    expect(places.some((place) => place.name.endsWith('.accounts.json'))).toBe(true);
    expect(findLeaks([...secrets, ...issued], places)).toEqual([]);
  });
});
