// Runs a command where an OS keychain is reachable, without touching the user's own.
//
// On Linux the keychain is a Secret Service on the D-Bus session bus. This starts a private one for the command: a
// throwaway `dbus-run-session` with gnome-keyring unlocked by a random password and its own temporary XDG_DATA_HOME,
// so the user's login keyring is never written to and no password prompt can appear — also on a desktop whose own
// keyring is running. LATCHKEY_KEYRING=session runs the command on the session's own Secret Service instead (inside
// this script it is set already).
//
// The command also gets a home folder of its own in the account database, through nss_wrapper (Debian:
// libnss-wrapper) when it is installed: Latchkey's lock folder, which every process of a user shares, is found
// through the account database and not HOME (src/core/entry/lock-folder.ts), so without this the tests would leave
// their lock files, account lists and lock names in ~/.cache/latchkey/locks. Without nss_wrapper it says so and
// goes on. macOS and Windows always have their keychain, and their lock folder is the user's.
//
// Usage: node scripts/with-keyring.ts <command> [args...]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** nss_wrapper's library where distributions install it (Debian and Ubuntu per architecture, Fedora, Arch); undefined when it is not installed. */
function nssWrapperLibrary(): string | undefined {
  const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch as string];
  const folders = [...(multiarch ? [`/usr/lib/${multiarch}`] : []), '/usr/lib64', '/usr/lib'];
  return folders.map((folder) => join(folder, 'libnss_wrapper.so')).find((path) => existsSync(path));
}

/** The account database's line for `id` (`getent passwd|group ID`), for a user who is not in the files (LDAP, a container's arbitrary uid). */
function getent(database: 'passwd' | 'group', id: number): string | undefined {
  const found = spawnSync('getent', [database, String(id)], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

/**
 * The variables that make nss_wrapper answer this process's children from copies of /etc/passwd and /etc/group in
 * `scratch`, where this user's home is `scratch/home`; none when nss_wrapper is missing or already answering.
 */
function privateAccountHome(scratch: string): NodeJS.ProcessEnv {
  if (process.platform !== 'linux' || process.env.NSS_WRAPPER_PASSWD) return {};
  const library = nssWrapperLibrary();
  if (!library) {
    console.error(`with-keyring: nss_wrapper not found (Debian/Ubuntu: apt-get install libnss-wrapper); this run's lock files go to your own ~/.cache/latchkey/locks.`);
    return {};
  }
  const uid = process.getuid!();
  const gid = process.getgid!();
  const home = join(scratch, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const ownLine = (line: string) => line.split(':')[2] === String(uid);
  const users = readFileSync('/etc/passwd', 'utf8').split('\n').filter(Boolean);
  if (!users.some(ownLine)) users.push(getent('passwd', uid) ?? `latchkey-test:x:${uid}:${gid}::${home}:/bin/sh`);
  const passwd = users.map((line) => {
    if (!ownLine(line)) return line;
    const fields = line.split(':');
    fields[5] = home;
    return fields.join(':');
  });
  const groups = readFileSync('/etc/group', 'utf8').split('\n').filter(Boolean);
  if (!groups.some((line) => line.split(':')[2] === String(gid))) groups.push(getent('group', gid) ?? `latchkey-test:x:${gid}:`);
  writeFileSync(join(scratch, 'passwd'), passwd.join('\n') + '\n');
  writeFileSync(join(scratch, 'group'), groups.join('\n') + '\n');
  return {
    LD_PRELOAD: [process.env.LD_PRELOAD, library].filter(Boolean).join(' '),
    NSS_WRAPPER_PASSWD: join(scratch, 'passwd'),
    NSS_WRAPPER_GROUP: join(scratch, 'group'),
  };
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
