// The agent asks the kernel who connects (SO_PEERCRED through koffi): root and this user are served; another user who
// got past the folder (here the test opens it on purpose) is closed unanswered, and the agent logs its uid.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../../helpers/cli.ts';
import { startTestDemo } from '../../helpers/demo.ts';
import { agentMachine, type AgentMachine } from './agent-helpers.ts';

/** A Node another user can run (this test's own Node lives in root's home, closed to nobody). */
const SYSTEM_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));

/** Why another user's process cannot be started here, if it cannot. */
const cannot =
  process.platform !== 'linux'
    ? 'SO_PEERCRED is Linux only'
    : process.getuid?.() !== 0
      ? 'not root, so runuser cannot start a process as nobody'
      : !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')
        ? 'no runuser'
        : !/^nobody:/m.test(readFileSync('/etc/passwd', 'utf8'))
          ? 'no user nobody'
          : !SYSTEM_NODE
            ? 'no Node outside root\'s home for nobody to run'
            : undefined;

/** Connects to `socket` as `user` (or as this process's user), asks `about`, and says what came back. */
function ask(socket: string, user?: string): Promise<string> {
  const script = `
    const s = require('node:net').createConnection(process.argv[1]);
    let connected = false, out = '', error = '';
    s.on('connect', () => { connected = true; s.write(JSON.stringify({ id: 1, client: '', op: 'about' }) + '\\n'); });
    s.on('data', (d) => { out += d; s.end(); });
    s.on('error', (e) => { error = e.code; });
    s.on('close', () => console.log(!connected ? 'not connected ' + error : out ? 'answered ' + out.trim() : 'closed unanswered'));`;
  const [file, args] = user ? ['runuser', ['-u', user, '--', SYSTEM_NODE!, '-e', script, socket]] : [process.execPath, ['-e', script, socket]];
  return new Promise((resolve) => execFile(file, args, { timeout: 15_000 }, (error, stdout, stderr) => resolve(`${stdout}${stderr}`.trim() || String(error))));
}

describe('latchkey agent: the peer check', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let machine: AgentMachine;

  beforeAll(async () => {
    if (cannot) return;
    demo = await startTestDemo();
    machine = await agentMachine(demo, `latchkey-test-agent-peer-${randomUUID()}`);
  });
  afterAll(async () => {
    await Promise.all([demo?.close(), machine?.remove()]);
  });

  it.skipIf(cannot)(`serves root, refuses nobody even with the folder opened, and logs the refusal${cannot ? ` (skipped: ${cannot})` : ''}`, async () => {
    const folder = join(machine.runtime, 'peer');
    await mkdir(folder, { mode: 0o700 });
    const socket = join(folder, 'agent.sock');
    const agent = startCli(['agent', '--foreground', '--socket', socket], machine.env({ LATCHKEY_LOG_LEVEL: 'info' }));
    try {
      await new Promise<void>((resolve, reject) => {
        agent.child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('LATCHKEY_AGENT_SOCK') && resolve());
        agent.child.once('close', () => reject(new Error('the agent exited before it listened')));
      });
      // Open every door the folder and the socket's mode would close, so only the peer check stands in nobody's way.
      for (const open of [dirname(machine.runtime), machine.runtime, folder]) await chmod(open, 0o711);
      await chmod(socket, 0o666);

      const asRoot = await ask(socket);
      expect(asRoot).toMatch(/^answered .*"pid":\d+/);
      expect(asRoot).toContain('SO_PEERCRED');

      const asNobody = await ask(socket, 'nobody');
      expect(asNobody).toBe('closed unanswered');

      // Root again after the refusal: one refused peer does not stop the agent.
      expect(await ask(socket)).toMatch(/^answered /);
    } finally {
      agent.child.kill('SIGTERM');
    }
    const { stderr } = await agent.result;
    expect(stderr).toMatch(/ info agent peer check \{"relies":"the OS's word on who connects \(SO_PEERCRED\)/);
    expect(stderr).toMatch(/ warn agent refused a connection from another user \{"uid":65534,"pid":\d+\}/);
  });
});
