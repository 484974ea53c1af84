// scripts/with-keyring.ts, which `npm test` and the benches run under, gives its command a keychain and a lock
// folder of its own: a developer's keyring and home are never written to by a test, also on a desktop whose own
// Secret Service is running. Here the suite's keyring plays that running one, and the command is started from an
// environment like a developer's shell (no LATCHKEY_KEYRING, no nss_wrapper yet).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import keytar from 'keytar';
import { describe, expect, it } from 'vitest';
import { NSS_WRAPPER_VARIABLES, nssWrapperLibrary } from '../../scripts/nss-wrapper.ts';
import { createSecretServiceProbe } from '../../src/core/index.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/with-keyring.ts');
const CORE = pathToFileURL(join(ROOT, 'src/core/index.ts')).href;

const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const nssWrapper = nssWrapperLibrary() !== undefined;
const missing = process.platform !== 'linux' ? 'Linux only' : !process.env.DBUS_SESSION_BUS_ADDRESS ? 'no session bus' : !hasTool('gnome-keyring-daemon') ? 'no gnome-keyring' : undefined;

/** A developer's shell: the session's bus (here the suite's keyring), without what with-keyring.ts sets. */
function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ['LATCHKEY_KEYRING', ...NSS_WRAPPER_VARIABLES]) if (!(name in extra)) delete env[name];
  return env;
}

/** This user's home as the account database says without nss_wrapper: where Latchkey's lock folder really is. */
function realAccountHome(): string {
  const line = spawnSync('getent', ['passwd', String(process.getuid!())], { env: shellEnv(), encoding: 'utf8' }).stdout.trim();
  return line.split(':')[5]!;
}

interface Seen {
  bus: string;
  home: string;
  lockFolder: string;
  readBack: string | null;
}

/** Runs a Node program under with-keyring.ts that stores `secret` with keytar, reads it back and says where it ran. */
function runUnderWithKeyring(service: string, secret: string, env: NodeJS.ProcessEnv): Seen {
  const program = `
    import keytar from 'keytar';
    import { userInfo } from 'node:os';
    import { defaultLockDir } from ${JSON.stringify(CORE)};
    await keytar.setPassword(${JSON.stringify(service)}, 'someone', ${JSON.stringify(secret)});
    const readBack = await keytar.getPassword(${JSON.stringify(service)}, 'someone');
    console.log(JSON.stringify({ bus: process.env.DBUS_SESSION_BUS_ADDRESS, home: userInfo().homedir, lockFolder: defaultLockDir(), readBack }));`;
  const result = spawnSync(process.execPath, [SCRIPT, process.execPath, '--input-type=module', '-e', program], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Seen;
}

describe.skipIf(missing)(`scripts/with-keyring.ts${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('starts a private Secret Service though the session runs one: the entry the command stores is not in the session\'s keyring', async () => {
    const service = `latchkey-test-with-keyring-${randomUUID()}`;
    const seen = runUnderWithKeyring(service, 'kept in the private keyring', shellEnv());

    expect(seen.readBack).toBe('kept in the private keyring');
    expect(seen.bus).not.toBe(process.env.DBUS_SESSION_BUS_ADDRESS);
    // The session's own keyring (the suite's, here) never saw the entry.
    expect(await createSecretServiceProbe().itemState(service, 'someone')).toBe('absent');
  });

  it.skipIf(!nssWrapper)(`gives the command a home of its own in the account database, so a lock folder of its own, removed after it${nssWrapper ? '' : ' (skipped: no nss_wrapper, libnss-wrapper)'}`, () => {
    const seen = runUnderWithKeyring(`latchkey-test-with-keyring-${randomUUID()}`, 'anything', shellEnv());

    const realHome = realAccountHome();
    expect(seen.home).not.toBe(realHome);
    expect(seen.home.startsWith(tmpdir())).toBe(true);
    expect(seen.lockFolder).toBe(join(seen.home, '.cache', 'latchkey', 'locks'));
    expect(seen.lockFolder.startsWith(realHome + '/')).toBe(false);
    expect(existsSync(seen.home)).toBe(false);
  });

  it("LATCHKEY_KEYRING=session uses the session's own Secret Service", async () => {
    const service = `latchkey-test-with-keyring-${randomUUID()}`;
    const seen = runUnderWithKeyring(service, 'kept in the session keyring', shellEnv({ LATCHKEY_KEYRING: 'session' }));

    expect(seen.readBack).toBe('kept in the session keyring');
    expect(seen.bus).toBe(process.env.DBUS_SESSION_BUS_ADDRESS);
    expect(await createSecretServiceProbe().itemState(service, 'someone')).toBe('unlocked');
    await keytar.deletePassword(service, 'someone');
  });
});
