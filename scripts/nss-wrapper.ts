// nss_wrapper (the cwrap project's; Debian: libnss-wrapper), as with-keyring.ts gives it to the tests: an account
// database of the run's own, in which this user's home is a temporary folder. Latchkey finds its lock folder through
// the account database (src/core/entry/lock-folder.ts), so under it the tests' lock files stay out of the user's home.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variables that carry nss_wrapper into a process. */
export const NSS_WRAPPER_VARIABLES = ['LD_PRELOAD', 'NSS_WRAPPER_PASSWD', 'NSS_WRAPPER_GROUP'] as const;

/** nss_wrapper's library where distributions install it (Debian and Ubuntu per architecture, Fedora, Arch); undefined when it is not installed. */
export function nssWrapperLibrary(): string | undefined {
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
 * The variables that make nss_wrapper answer a process from copies of /etc/passwd and /etc/group in `scratch`, where
 * this user's home is `scratch/home`; none when nss_wrapper is missing (it says so) or already answering.
 */
export function privateAccountHome(scratch: string): NodeJS.ProcessEnv {
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

/** The nss_wrapper variables `env` has, for an environment built from scratch that must keep the run's account database. */
export function nssWrapperOf(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(NSS_WRAPPER_VARIABLES.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

/**
 * `env` without nss_wrapper, for a browser, which is not Latchkey and needs no account database of its own. Chromium's
 * crash handler (crashpad, which Electron carries too) never exited under it here, so closing the browser waited forever.
 */
export function withoutNssWrapper(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { NSS_WRAPPER_PASSWD: _passwd, NSS_WRAPPER_GROUP: _group, LD_PRELOAD, ...rest } = env;
  const preload = (LD_PRELOAD ?? '').split(/[\s:]+/).filter((library) => library !== '' && !/(^|\/)libnss_wrapper\.so$/.test(library));
  return preload.length > 0 ? { ...rest, LD_PRELOAD: preload.join(' ') } : rest;
}
