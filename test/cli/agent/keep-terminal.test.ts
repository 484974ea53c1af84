// `latchkey agent --keep FILE` with its passphrase typed at a terminal — a real pseudo-terminal from util-linux's
// `script` — asks it twice while FILE does not exist yet (two that differ start nothing), and once for a file that
// exists.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_MAIN, ROOT, runCli } from '../../helpers/cli.ts';
import { agentMachine, exited, isRunning, parseAgentLines, type AgentMachine } from './agent-helpers.ts';

/** The terminals opened, so a test that fails while a command waits at its prompt leaves nothing running. */
const terminals = new Set<ChildProcess>();

/** `latchkey args…` on a terminal of its own: what it printed there, a way to type a line, its exit code. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const command = [process.execPath, CLI_MAIN, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
  // Its own process group: closing it ends `script` and the command on its terminal together.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env, cwd: ROOT, detached: true });
  terminals.add(child);
  child.on('close', () => terminals.delete(child));
  let shown = '';
  child.stdout.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  const code = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    shown: () => shown,
    code,
    /** Waits until the terminal shows `text` (a prompt), then types `line` and Enter. */
    async answer(text: string, line: string): Promise<void> {
      const until = Date.now() + 15_000;
      while (!shown.includes(text)) {
        if (Date.now() > until) throw new Error(`the terminal never showed "${text}": ${shown}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.stdin.write(`${line}\r`);
    },
  };
}

describe.skipIf(!existsSync('/usr/bin/script'))('`latchkey agent --keep FILE`, its passphrase typed at a terminal', () => {
  let machine: AgentMachine;
  let kept: string;
  let socket: string;

  beforeAll(async () => {
    // No provider is asked while an agent starts: an address nothing listens on will do.
    machine = await agentMachine({ issuer: 'http://127.0.0.1:9/', apiUrl: 'http://127.0.0.1:9/api' }, 'latchkey-test-keep-terminal');
    kept = join(machine.home, 'latchkey.sealed');
    socket = join(machine.runtime, 'latchkey', 'agent.sock');
  });
  afterEach(() => {
    // `script` runs the command in a session of its own: both go, with anything else started on this test's folders.
    for (const child of terminals) if (child.pid) process.kill(-child.pid, 'SIGKILL');
    spawnSync('pkill', ['-KILL', '-f', machine.home]);
  });
  afterAll(() => machine?.remove());

  it('asks twice for a new file: two that differ start no agent and write no file; the same twice starts it', async () => {
    const differ = onTerminal(['agent', '--keep', kept, '--socket', socket], machine.env());
    await differ.answer(`Passphrase for ${kept} (a new file): `, 'correct horse');
    await differ.answer('The same passphrase again: ', 'correct hrose');
    expect(await differ.code).toBe(2);
    expect(differ.shown()).toMatch(/The two passphrases for .* differ: the agent was not started, and no file was written/);
    expect(differ.shown()).not.toContain('correct h');
    expect(existsSync(kept)).toBe(false);
    expect(existsSync(socket)).toBe(false);

    const same = onTerminal(['agent', '--keep', kept, '--socket', socket], machine.env());
    await same.answer(`Passphrase for ${kept} (a new file): `, 'correct horse');
    await same.answer('The same passphrase again: ', 'correct horse');
    expect(await same.code).toBe(0);
    const { pid } = parseAgentLines({ code: 0, signal: null, stdout: same.shown().replaceAll('\r\n', '\n'), stderr: '' });
    expect(isRunning(pid)).toBe(true);
    expect((await runCli(['agent', '--stop'], machine.env({ LATCHKEY_AGENT_SOCK: socket }))).code).toBe(0);
    await exited(pid);
  });

  it('asks once for a file that exists', async () => {
    await writeFile(kept, 'not a sealed file\n', { mode: 0o600 });
    const once = onTerminal(['agent', '--keep', kept, '--socket', socket], machine.env());
    await once.answer(`Passphrase for ${kept}: `, 'correct horse');
    const code = await once.code;
    expect(once.shown()).not.toContain('again');
    // That file is not one of ours: refused, and left as it was.
    expect(code).not.toBe(0);
    expect(await readFile(kept, 'utf8')).toBe('not a sealed file\n');
  });
});
