// The agent's edges: who may reach its socket, how it ends (--lifetime, --idle, SIGTERM, --foreground), the lines
// for csh and fish, a browser sign-in through it, and the plaintext file a person may name instead.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT, runCli, startCli } from '../../helpers/cli.ts';
import { startTestDemo } from '../../helpers/demo.ts';
import { agentMachine, exited, isRunning, startAgentProcess, type AgentMachine } from './agent-helpers.ts';

const NOBODY = 65534;

/** Whether the user nobody can connect to the Unix socket at `path` (python3 as nobody, through runuser: we run as root). */
function nobodyConnects(path: string): Promise<{ connected: boolean; output: string }> {
  const script = 'import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nprint("connected")';
  return new Promise((resolve) =>
    execFile('runuser', ['-u', 'nobody', '--', '/usr/bin/python3', '-c', script, path], (error, stdout, stderr) =>
      resolve({ connected: !error && stdout.includes('connected'), output: `${stdout}${stderr}` }),
    ),
  );
}

/** Another user's process can be started here: we run as root, with runuser and a python3 that user can run. */
const canRunAsNobody = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') && existsSync('/usr/bin/python3');

describe('latchkey agent: its socket, its end, its shells', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let machine: AgentMachine;
  const pids: number[] = [];
  const service = `latchkey-test-agent-edges-${randomUUID()}`;

  beforeAll(async () => {
    demo = await startTestDemo({ accessTokenTtl: 300 });
    machine = await agentMachine(demo, service);
  });
  afterAll(async () => {
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all([demo?.close(), machine?.remove()]);
  });

  const start = async (args: string[] = [], env = machine.env()) => {
    const started = await startAgentProcess(env, args);
    pids.push(started.pid);
    return { ...started, shell: machine.env({ LATCHKEY_AGENT_SOCK: started.socket }) };
  };

  it.runIf(canRunAsNobody)('another user cannot reach the socket: its folder is 0700 and the socket 0600 (a socket in an open folder shows the check itself works)', async () => {
    const agent = await start();
    // Let nobody walk up to the agent's folder, so only that folder stands in the way.
    await chmod(dirname(dirname(agent.socket)), 0o711);
    await chmod(dirname(dirname(dirname(agent.socket))), 0o711);
    expect((await stat(dirname(agent.socket))).mode & 0o777).toBe(0o700);
    expect((await lstat(agent.socket)).mode & 0o777).toBe(0o600);
    const refused = await nobodyConnects(agent.socket);
    expect(refused.connected).toBe(false);
    expect(refused.output).toMatch(/PermissionError|Permission denied/);

    const openFolder = join(machine.runtime, 'open');
    await mkdir(openFolder, { mode: 0o777 });
    await chmod(openFolder, 0o777);
    const server = createServer().listen(join(openFolder, 'open.sock'));
    await new Promise((resolve) => server.once('listening', resolve));
    await chmod(join(openFolder, 'open.sock'), 0o777);
    try {
      expect((await nobodyConnects(join(openFolder, 'open.sock'))).connected).toBe(true);
    } finally {
      server.close();
    }
    await chmod(dirname(dirname(agent.socket)), 0o700);
    process.kill(agent.pid, 'SIGTERM');
    await exited(agent.pid);
  });

  it('refuses a socket folder that others may enter or that belongs to another user, saying which and what to do', async () => {
    const runtime = join(machine.runtime, 'loose');
    await mkdir(join(runtime, 'latchkey'), { recursive: true, mode: 0o755 });
    await chmod(join(runtime, 'latchkey'), 0o755);
    const loose = await runCli(['agent'], machine.env({ XDG_RUNTIME_DIR: runtime }));
    expect(loose.code).toBe(2);
    expect(loose.stderr).toBe(`The agent's socket folder ${join(runtime, 'latchkey')} cannot be trusted: others may use it (mode 755). Remove it (Latchkey recreates it, private to you).\n`);
    if (!canRunAsNobody) return;
    await chmod(join(runtime, 'latchkey'), 0o700);
    await chown(join(runtime, 'latchkey'), NOBODY, NOBODY);
    const foreign = await runCli(['agent'], machine.env({ XDG_RUNTIME_DIR: runtime }));
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`cannot be trusted: it belongs to another user (uid ${NOBODY})`);
  });

  it('--lifetime ends the agent on time and its socket with it; a command then says the session ended with it; --csh lines', async () => {
    const agent = await start(['--lifetime', '1', '--csh']);
    expect(agent.result.stdout).toBe(`setenv LATCHKEY_AGENT_SOCK '${agent.socket}';\necho Latchkey agent pid ${agent.pid};\n`);
    await exited(agent.pid);
    await expect(lstat(agent.socket)).rejects.toMatchObject({ code: 'ENOENT' });
    const token = await runCli(['token'], agent.shell);
    expect(token.code).toBe(1);
    expect(token.stderr).toMatch(/^No Latchkey agent runs at .*: it was stopped or its time ran out/);
  });

  it('--idle ends the agent once no command asked for a while; --fish lines', async () => {
    const env = machine.env({ XDG_RUNTIME_DIR: join(machine.runtime, 'idle') });
    await mkdir(join(machine.runtime, 'idle'), { mode: 0o700 });
    const agent = await start(['--idle', '2', '--fish'], env);
    expect(agent.result.stdout).toBe(`set -gx LATCHKEY_AGENT_SOCK '${agent.socket}';\necho Latchkey agent pid ${agent.pid};\n`);
    const status = await runCli(['status'], { ...agent.shell, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR });
    expect(status.code).toBe(1);
    await exited(agent.pid);
    const stop = await runCli(['agent', '--stop', '--fish'], { ...agent.shell, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR });
    expect(stop.code).toBe(1);
    expect(stop.stdout).toBe('');
    expect(stop.stderr).toBe(`No Latchkey agent runs at ${agent.socket}; there is nothing to stop.\n`);
  });

  it('a second `latchkey agent` on the same socket hands out the running one instead of starting another', async () => {
    const env = machine.env({ XDG_RUNTIME_DIR: join(machine.runtime, 'twice') });
    await mkdir(join(machine.runtime, 'twice'), { mode: 0o700 });
    const first = await start([], env);
    const again = await runCli(['agent'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(`LATCHKEY_AGENT_SOCK='${first.socket}'; export LATCHKEY_AGENT_SOCK;\necho Latchkey agent pid ${first.pid};\n`);
    expect(again.stderr).toBe(`A Latchkey agent already runs at ${first.socket} (pid ${first.pid}); using it.\n`);
    process.kill(first.pid, 'SIGTERM');
    await exited(first.pid);
  });

  it('--foreground prints the lines and serves until SIGTERM, then says it forgot its sessions and removes its socket', async () => {
    const env = machine.env({ XDG_RUNTIME_DIR: join(machine.runtime, 'fg') });
    await mkdir(join(machine.runtime, 'fg'), { mode: 0o700 });
    const { child, result } = startCli(['agent', '--foreground'], env);
    const printed = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('echo Latchkey agent pid')) resolve(out);
      });
    });
    const socket = join(machine.runtime, 'fg', 'latchkey', 'agent.sock');
    expect(printed).toBe(`LATCHKEY_AGENT_SOCK='${socket}'; export LATCHKEY_AGENT_SOCK;\necho Latchkey agent pid ${child.pid};\n`);
    expect((await runCli(['status', '--json'], { ...env, LATCHKEY_AGENT_SOCK: socket })).stdout).toContain('"keychain":"agent"');
    child.kill('SIGTERM');
    const ended = await result;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toBe('The Latchkey agent stopped (it got SIGTERM); its sessions are forgotten.\n');
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a browser sign-in through the agent: the agent listens on the loopback, the command opens the browser', async () => {
    const agent = await start();
    const login = await runCli(['login'], agent.shell);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Signed in as Alice Liddell \(alice\)\n$/);
    const token = await runCli(['token'], agent.shell);
    expect(token.stdout.trim()).toMatch(JWT);
    expect((await runCli(['logout'], agent.shell)).code).toBe(0);
    process.kill(agent.pid, 'SIGTERM');
    await exited(agent.pid);
  });

  it('LATCHKEY_INSECURE_PLAINTEXT_FILE: only when named, every command warns on stderr, and the file is 0600', async () => {
    const file = join(machine.home, 'plain.json');
    const env = machine.env({ LATCHKEY_INSECURE_PLAINTEXT_FILE: file });
    const warning = `Warning: LATCHKEY_INSECURE_PLAINTEXT_FILE is set, so the session's refresh token is kept unencrypted in ${file}: anyone who can read that file can act as you. Unset it and use the OS keychain or \`latchkey agent\`.\n`;
    const login = await runCli(['login'], env);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr.startsWith(warning)).toBe(true);
    for (const command of [['status'], ['token'], ['logout']]) {
      const result = await runCli(command, env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr.startsWith(warning), command.join(' ')).toBe(true);
    }
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('{}\n');
  });

  it('doctor says which store is in use and why: the agent (what it keeps, what guards it), the named plaintext file, or none with the three ways', async () => {
    const passphrase = join(machine.home, 'doctor-passphrase');
    await writeFile(passphrase, 'a passphrase for the doctor\n');
    const kept = join(machine.home, 'doctor.sealed');
    const agent = await start(['--keep', kept], machine.env({ XDG_RUNTIME_DIR: join(machine.runtime, 'doctor'), LATCHKEY_AGENT_PASSPHRASE_FILE: passphrase }));
    const withAgent = await runCli(['doctor'], agent.shell);
    expect(withAgent.stdout).toContain(`✓ Store: the agent at ${agent.socket} (pid ${agent.pid}), because LATCHKEY_AGENT_SOCK is set; it keeps sessions in its memory and ${kept}, sealed with a passphrase. Who may use it is decided by the OS's word on who connects (SO_PEERCRED): only your uid and root's are served; and by its socket folder (0700, yours).\n`);
    process.kill(agent.pid, 'SIGTERM');
    await exited(agent.pid);

    const plain = await runCli(['doctor'], machine.env({ LATCHKEY_INSECURE_PLAINTEXT_FILE: join(machine.home, 'doctor.json') }));
    expect(plain.stdout).toContain(`! Store: the plaintext file ${join(machine.home, 'doctor.json')}, because LATCHKEY_INSECURE_PLAINTEXT_FILE is set: anyone who can read it can act as you\n`);

    const none = await runCli(['doctor'], machine.env());
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/✗ Store: none: .*, and no agent is set \(LATCHKEY_AGENT_SOCK\)\n {4}fix: Start a Secret Service .*eval "\$\(latchkey agent\)".*eval "\$\(latchkey agent --keep FILE\)"\.\n/);
  });

  it('holds several accounts: each signed in through it, tokens by --account or the default, switch and logout of one', async () => {
    const agent = await start([], machine.env({ XDG_RUNTIME_DIR: join(machine.runtime, 'accounts') }));
    const subOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
    const alice = await runCli(['login'], { ...agent.shell, LATCHKEY_TEST_LOGIN: 'alice', LATCHKEY_TEST_PASSWORD: 'wonderland' });
    expect(alice.code, alice.stderr).toBe(0);
    const bob = await runCli(['login'], { ...agent.shell, LATCHKEY_TEST_LOGIN: 'bob', LATCHKEY_TEST_PASSWORD: 'builder' });
    expect(bob.code, bob.stderr).toBe(0);
    expect(bob.stdout).toMatch(/Signed in as Bob Builder \(bob\)\n/);

    const listed = JSON.parse((await runCli(['accounts', '--json'], agent.shell)).stdout) as { sub: string; default: boolean; keychain: string }[];
    expect(listed.map((account) => [account.sub, account.default, account.keychain])).toEqual([['alice', false, 'agent'], ['bob', true, 'agent']]);
    const tokenOf = async (extra: string[] = []) => {
      const token = await runCli(['token', ...extra], agent.shell);
      expect(token.code, token.stderr).toBe(0);
      return subOf(token.stdout.trim());
    };
    expect(await tokenOf()).toBe('bob');
    expect(await tokenOf(['--account', 'alice'])).toBe('alice');
    expect((await runCli(['switch', 'alice'], agent.shell)).code).toBe(0);
    expect(await tokenOf()).toBe('alice');
    const logout = await runCli(['logout', '--account', 'bob'], agent.shell);
    expect(logout.code, logout.stderr).toBe(0);
    expect((await runCli(['token', '--account', 'bob'], agent.shell)).code).toBe(1);
    expect(await tokenOf()).toBe('alice');
    expect((await runCli(['logout', '--all'], agent.shell)).code).toBe(0);
    process.kill(agent.pid, 'SIGTERM');
    await exited(agent.pid);
  });
});
