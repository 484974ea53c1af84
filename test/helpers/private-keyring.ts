// A throwaway gnome-keyring on its own D-Bus bus, for tests that lock and
// unlock the keyring: locking the one `npm test` shares would pull the keychain
// from under the tests running beside them. Like scripts/with-keyring.ts, the
// login collection is created and unlocked with a random password; this one
// keeps the password, so a test can unlock it again as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbusNative from '@homebridge/dbus-native';
import { openDbusConnection, type DbusConnection } from '../../src/core/keychain/secret-service.ts';

const SECRETS = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';
const LOGIN = '/org/freedesktop/secrets/collection/login';

export interface PrivateKeyring {
  /** What a process needs to use this keyring (and no display, so an unlock prompt fails at once as on a headless box). */
  env: Record<string, string>;
  /** org.freedesktop.Secret.Service.Lock on the login collection — what a screen lock or a keyring manager does. */
  lock(): Promise<void>;
  /** gnome-keyring's unlock-with-password call, as its unlock prompt would make it. */
  unlock(): Promise<void>;
  /** org.freedesktop.Secret.Service.SearchItems: the matching items, unlocked and locked. */
  searchItems(attributes: Record<string, string>): Promise<{ unlocked: string[]; locked: string[] }>;
  /**
   * From now on an unlock prompt opens and stays open, as while a user reads it: this takes gnome-keyring's
   * prompter name on the bus (gcr's `org.gnome.keyring.SystemPrompter`) and never answers. `prompts()` counts them.
   */
  holdPromptsOpen(): Promise<{ prompts(): number }>;
  /** Whether gnome-keyring-daemon is still running, and what it has written to stderr (its warnings and assertion failures). */
  daemon(): { running: boolean; stderr: string };
  close(): Promise<void>;
}

/** The part of @homebridge/dbus-native the prompter stand-in uses. */
interface PrompterBus {
  connection: { end(): void; on(event: 'error', listener: () => void): void };
  requestName(name: string, flags: number, callback: (error: unknown, reply: number) => void): void;
  setMethodCallHandler(path: string, iface: string, member: string, handler: [(...args: unknown[]) => unknown, string]): void;
}

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const home = await mkdtemp(join(tmpdir(), 'latchkey-private-keyring-'));
  const runtimeDir = join(home, 'run');
  const dataHome = join(home, 'data');
  await Promise.all([mkdir(runtimeDir, { mode: 0o700 }), mkdir(dataHome, { mode: 0o700 })]);
  const password = randomBytes(16).toString('hex');
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, XDG_DATA_HOME: dataHome, DISPLAY: '', WAYLAND_DISPLAY: '' };

  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    await rm(home, { recursive: true, force: true });
  };
  try {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { env: baseEnv, stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(bus);
    const busAddress = await firstLine(bus);
    const env = { XDG_RUNTIME_DIR: runtimeDir, XDG_DATA_HOME: dataHome, DBUS_SESSION_BUS_ADDRESS: busAddress, DISPLAY: '', WAYLAND_DISPLAY: '' };
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env: { ...baseEnv, ...env }, stdio: ['pipe', 'ignore', 'pipe'] });
    children.push(keyring);
    let keyringStderr = '';
    keyring.stderr?.on('data', (chunk: Buffer) => void (keyringStderr = (keyringStderr + chunk.toString()).slice(-64_000)));
    keyring.stdin?.end(password);
    const connection = openDbusConnection(busAddress, { timeoutMs: 5_000 });
    await waitForSecretService(connection);
    let prompter: PrompterBus | undefined;

    return {
      env,
      async lock() {
        await connection.call({ destination: SECRETS, path: SERVICE_PATH, interface: 'org.freedesktop.Secret.Service', member: 'Lock', signature: 'ao', body: [[LOGIN]] });
      },
      async unlock() {
        const [, session] = await connection.call({ destination: SECRETS, path: SERVICE_PATH, interface: 'org.freedesktop.Secret.Service', member: 'OpenSession', signature: 'sv', body: ['plain', ['s', '']] });
        await connection.call({
          destination: SECRETS,
          path: SERVICE_PATH,
          interface: 'org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface',
          member: 'UnlockWithMasterPassword',
          signature: 'o(oayays)',
          body: [LOGIN, [session, Buffer.alloc(0), Buffer.from(password), 'text/plain']],
        });
      },
      async searchItems(attributes) {
        const [unlocked, locked] = await connection.call({
          destination: SECRETS,
          path: SERVICE_PATH,
          interface: 'org.freedesktop.Secret.Service',
          member: 'SearchItems',
          signature: 'a{ss}',
          body: [Object.entries(attributes)],
        });
        return { unlocked: unlocked as string[], locked: locked as string[] };
      },
      async holdPromptsOpen() {
        let prompts = 0;
        const bus = (dbusNative as unknown as { sessionBus(options: { busAddress: string }): PrompterBus }).sessionBus({ busAddress });
        prompter = bus;
        bus.connection.on('error', () => undefined);
        bus.setMethodCallHandler('/org/gnome/keyring/Prompter', 'org.gnome.keyring.internal.Prompter', 'BeginPrompting', [
          () => {
            prompts++;
            return new Promise(() => {});
          },
          '',
        ]);
        // DBUS_NAME_FLAG_DO_NOT_QUEUE; 1 = primary owner
        const reply = await new Promise<number>((resolve, reject) => bus.requestName('org.gnome.keyring.SystemPrompter', 4, (error, code) => (error ? reject(new Error(String(error))) : resolve(code))));
        if (reply !== 1) throw new Error(`could not take the prompter name (${reply})`);
        return { prompts: () => prompts };
      },
      daemon: () => ({ running: keyring.exitCode === null && keyring.signalCode === null, stderr: keyringStderr }),
      async close() {
        prompter?.connection.end();
        connection.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end).trim());
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited (${String(code)}) before printing its address`)));
  });
}

/** gnome-keyring takes its name on the bus a moment after it starts. */
async function waitForSecretService(connection: DbusConnection): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [owned] = await connection.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'NameHasOwner', signature: 's', body: [SECRETS] });
    if (owned === true) {
      const [collections] = await connection.call({ destination: SECRETS, path: SERVICE_PATH, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: ['org.freedesktop.Secret.Service', 'Collections'] });
      if (JSON.stringify(collections).includes(LOGIN)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('gnome-keyring did not come up on the private bus');
}
