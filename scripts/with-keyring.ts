// Runs a command where an OS keychain is reachable, without touching the user's own.
//
// On Linux the keychain is a Secret Service on the D-Bus session bus. This starts a private one for the command: a
// throwaway `dbus-run-session` with gnome-keyring unlocked by a random password and its own temporary XDG_DATA_HOME,
// so the user's login keyring is never written to and no password prompt can appear — also on a desktop whose own
// keyring is running. LATCHKEY_KEYRING=session runs the command on the session's own Secret Service instead (inside
// this script it is set already).
//
// The command also gets a home folder of its own in the account database, through nss_wrapper (nss-wrapper.ts)
// when it is installed: Latchkey's lock folder, which every process of a user shares, is found through the account
// database and not HOME, so without this the tests would leave their lock files, account lists and lock names in
// ~/.cache/latchkey/locks. Without nss_wrapper it says so and goes on. macOS and Windows always have their keychain, and their lock folder is the user's.
//
// Usage: node scripts/with-keyring.ts <command> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateAccountHome } from './nss-wrapper.ts';

const command = process.argv.slice(2);
if (command.length === 0) {
  console.error('usage: node scripts/with-keyring.ts <command> [args...]');
  process.exit(2);
}

function requireTool(tool: string, debianPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} not found: install it (Debian/Ubuntu: apt-get install ${debianPackage}), or set LATCHKEY_KEYRING=session to use the Secret Service your session runs.`);
    process.exit(2);
  }
}

function run(argv: string[], env: NodeJS.ProcessEnv, cleanup: () => void): void {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    cleanup();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'latchkey-keyring-'));
const cleanup = () => rmSync(scratch, { recursive: true, force: true });
const accountHome = privateAccountHome(scratch);

if (process.platform !== 'linux' || process.env.LATCHKEY_KEYRING === 'session') {
  run(command, { ...process.env, ...accountHome }, cleanup);
} else {
  requireTool('dbus-run-session', 'dbus');
  requireTool('gnome-keyring-daemon', 'gnome-keyring');
  const runtimeDir = join(scratch, 'run');
  const env = {
    ...process.env,
    ...accountHome,
    XDG_DATA_HOME: join(scratch, 'data'),
    XDG_RUNTIME_DIR: runtimeDir,
    LATCHKEY_KEYRING_PASSWORD: randomBytes(16).toString('hex'),
    LATCHKEY_KEYRING: 'session',
  };
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  mkdirSync(env.XDG_DATA_HOME, { recursive: true, mode: 0o700 });
  const inner = [
    'printf %s "$LATCHKEY_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null',
    'unset LATCHKEY_KEYRING_PASSWORD',
    'exec "$@"',
  ].join(' && ');
  run(['dbus-run-session', '--', 'sh', '-c', inner, 'with-keyring', ...command], env, cleanup);
}
