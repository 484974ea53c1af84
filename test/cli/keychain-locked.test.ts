// A locked keychain is not a signed-out user (issue 15): the CLI as a user runs
// it, on a real gnome-keyring of its own that the test locks and unlocks over
// D-Bus, the real demo provider and Chromium as $BROWSER.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { parseHeaderLines } from '../helpers/api-call.ts';
import { startTestDemo } from '../helpers/demo.ts';
import { demoCliEnv, runCli } from '../helpers/cli.ts';
import { startPrivateKeyring, type PrivateKeyring } from '../helpers/private-keyring.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const LOCKED = 'Your keychain is locked — unlock it (e.g. log in to your desktop session or open your keyring manager) and run the command again; your session is kept.';

describe.skipIf(process.platform !== 'linux')('latchkey CLI with a locked keychain (real gnome-keyring)', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let keyring: PrivateKeyring;
  let dataDir: string;
  const service = `latchkey-test-locked-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-locked-data-'));
    [demo, keyring] = await Promise.all([startTestDemo(), startPrivateKeyring()]);
  });

  afterAll(async () => {
    await keyring?.close();
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => demoCliEnv(demo, { service, dataDir }, keyring.env);

  const cli = (args: string[]) => runCli(args, env());

  const signIns = () => demo.stats.tokenRequestsByGrant.authorization_code ?? 0;

  it('says the keychain is locked, keeps the session, and goes on without a new sign-in once it is unlocked', async () => {
    const login = await cli(['login', '--timeout', '60']);
    expect(login.code, login.stderr).toBe(0);
    const signInsAfterLogin = signIns();
    expect(signInsAfterLogin).toBe(1);
    const account = keychainAccount(loadConfig({ env: env() }));

    await keyring.lock();

    const status = await cli(['status']);
    expect(status.code).toBe(2);
    expect(status.stderr.trim().split('\n').at(-1)).toBe(LOCKED);
    expect(status.stdout).not.toMatch(/Not signed in|latchkey login/);

    const token = await cli(['token']);
    expect(token.code).toBe(2);
    expect(token.stdout).toBe('');
    expect(token.stderr.trim().split('\n').at(-1)).toBe(LOCKED);

    const logout = await cli(['logout']);
    expect(logout.code).toBe(2);
    expect(logout.stderr.trim().split('\n').at(-1)).toBe(LOCKED);

    // Nothing was deleted: the entry is still there, locked.
    const items = await keyring.searchItems({ service, account });
    expect(items).toEqual({ unlocked: [], locked: [expect.stringMatching(/^\/org\/freedesktop\/secrets\/collection\/login\//)] });

    const json = await cli(['status', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ signedIn: true, keychain: 'locked', user: { name: 'Alice Liddell' }, error: { code: 'keychain_locked', message: LOCKED } });

    // A sign-in now could not be stored: it asks to unlock first, before any browser opens.
    const loginWhileLocked = await cli(['login', '--timeout', '60']);
    expect(loginWhileLocked.code).toBe(2);
    // Said first, before a browser: at most after the notice the CLI gives when the keychain's answer takes a moment
    // (300 ms), as a headless keyring's failed prompt can on a loaded machine.
    expect(loginWhileLocked.stderr).toMatch(/^(?:Waiting for your keychain to unlock…\n)?Your keychain is locked — unlock it/);
    expect(signIns()).toBe(signInsAfterLogin);

    await keyring.unlock();

    const after = await cli(['token']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    // The token works at the API with the headers `latchkey headers` gives (a proof with the session's key, from the same keychain).
    const headers = await cli(['headers', `${demo.apiUrl}/me`]);
    expect(headers.code, headers.stderr).toBe(0);
    const sent = parseHeaderLines(headers.stdout);
    expect(sent.Authorization).toMatch(new RegExp(` ${after.stdout.trim()}$`));
    expect((await fetch(`${demo.apiUrl}/me`, { headers: sent })).status).toBe(200);
    const statusAfter = await cli(['status', '--json']);
    expect(statusAfter.code).toBe(0);
    expect(JSON.parse(statusAfter.stdout)).toMatchObject({ signedIn: true, keychain: 'os' });
    expect(signIns()).toBe(signInsAfterLogin);
    // Ten CLI runs and a browser sign-in: on a loaded two-core machine that alone can take a minute.
  }, 180_000);

  it('says once on stderr that it waits while the unlock prompt is open', async () => {
    await keyring.lock();
    const prompter = await keyring.holdPromptsOpen();
    const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'token'], { env: env(), cwd: root });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await expect.poll(() => stderr, { timeout: 15_000 }).toBe('Waiting for your keychain to unlock…\n');
      // The notice follows a moment (300 ms) of waiting, which a loaded machine can spend before the prompt is shown: wait for it too.
      await expect.poll(() => prompter.prompts(), { timeout: 15_000 }).toBe(1);
      expect(stderr).toBe('Waiting for your keychain to unlock…\n');
    } finally {
      child.kill();
    }
  });
});
