// Runs a command where an OS keychain is reachable.
//
// On Linux the keychain is a Secret Service on the D-Bus session bus. When none
// is running (a CI box, an SSH session), this starts a private one: a throwaway
// `dbus-run-session` with gnome-keyring unlocked by a random password and its own
// temporary XDG_DATA_HOME, so the user's login keyring is never touched and no
// password prompt can appear. macOS and Windows always have their keychain.
//
// Usage: node scripts/with-keyring.ts <command> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/with-keyring.ts <command> [args...]');
  process.exit(2);
}

function secretServiceRunning(): boolean {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return false;
  const probe = spawnSync(
    'dbus-send',
    ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'],
    { encoding: 'utf8', timeout: 5000 },
  );
  return probe.status === 0 && /boolean true/.test(probe.stdout);
}

function requireTool(tool: string, debianPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} not found: install it (Debian/Ubuntu: apt-get install ${debianPackage}) or start a Secret Service yourself.`);
    process.exit(2);
  }
}

function run(argv: string[], env: NodeJS.ProcessEnv, cleanup = () => {}): void {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    cleanup();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

if (process.platform !== 'linux' || process.env.LATCHKEY_KEYRING === 'session' || secretServiceRunning()) {
  run(command, process.env);
} else {
  requireTool('dbus-run-session', 'dbus');
  requireTool('gnome-keyring-daemon', 'gnome-keyring');
  const home = mkdtempSync(join(tmpdir(), 'latchkey-keyring-'));
  const runtimeDir = join(home, 'run');
  const env = {
    ...process.env,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: runtimeDir,
    LATCHKEY_KEYRING_PASSWORD: randomBytes(16).toString('hex'),
    LATCHKEY_KEYRING: 'session',
  };
  spawnSync('mkdir', ['-m', '700', '-p', runtimeDir, env.XDG_DATA_HOME]);
  const inner = [
    'printf %s "$LATCHKEY_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
    'unset LATCHKEY_KEYRING_PASSWORD',
    'exec "$@"',
  ].join(' && ');
  run(['dbus-run-session', '--', 'sh', '-c', inner, 'with-keyring', ...command], env, () =>
    rmSync(home, { recursive: true, force: true }),
  );
}
