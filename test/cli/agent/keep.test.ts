// `latchkey agent --keep FILE`: the agent's sessions kept across restarts in a file sealed with a passphrase
// (scrypt, AES-256-GCM), asked once at start — here read from the file LATCHKEY_AGENT_PASSPHRASE_FILE names; and
// what SIGTERM does to a refresh in flight.
import { randomUUID } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../../support/browser.ts';
import { enterDeviceCode } from '../../../support/device-approval.ts';
import { deviceCodePrinted, JWT, runCli, startCli } from '../../helpers/cli.ts';
import { issuedSecrets, startTestDemo } from '../../helpers/demo.ts';
import { findLeaks } from '../../helpers/leaks.ts';
import { agentMachine, exited, expiryOf, isRunning, startAgentProcess, type AgentMachine } from './agent-helpers.ts';

describe('latchkey agent --keep FILE', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let machine: AgentMachine;
  let kept: string;
  const pids: number[] = [];
  const service = `latchkey-test-agent-keep-${randomUUID()}`;

  beforeAll(async () => {
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 300 }), launchBrowser()]);
    machine = await agentMachine(demo, service);
    kept = join(machine.home, 'latchkey.sealed');
    await writeFile(join(machine.home, 'right'), 'correct horse battery staple\n', { mode: 0o600 });
    await writeFile(join(machine.home, 'wrong'), 'incorrect horse\n', { mode: 0o600 });
  });
  afterAll(async () => {
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all([demo?.close(), browser?.close(), machine?.remove()]);
  });

  const withPassphrase = (name: string) => machine.env({ LATCHKEY_AGENT_PASSPHRASE_FILE: join(machine.home, name) });
  const start = async (passphrase: string) => {
    const started = await startAgentProcess(withPassphrase(passphrase), ['--keep', kept]);
    pids.push(started.pid);
    return { ...started, shell: machine.env({ LATCHKEY_AGENT_SOCK: started.socket }) };
  };
  const stop = async (agent: { pid: number; shell: NodeJS.ProcessEnv }) => {
    expect((await runCli(['agent', '--stop'], agent.shell)).code).toBe(0);
    await exited(agent.pid);
  };

  it('a restarted agent with the passphrase is still signed in; a wrong passphrase or a damaged file is refused and the file left as it was; the file holds no token', async () => {
    const first = await start('right');
    const { child, result } = startCli(['login', '--device'], first.shell);
    const shown = await deviceCodePrinted(child);
    await enterDeviceCode(browser, shown.verificationUri, shown.userCode);
    expect((await result).code).toBe(0);
    await stop(first);

    // 0600, and neither a token, a JWT nor a private key in its bytes.
    expect((await stat(kept)).mode & 0o777).toBe(0o600);
    const sealed = await readFile(kept, 'utf8');
    expect(findLeaks(issuedSecrets(), [{ name: kept, text: sealed }])).toEqual([]);
    expect(sealed).not.toMatch(/refresh_token|dpop_key|alice/);

    const second = await start('right');
    const status = await runCli(['status'], second.shell);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^Signed in as Alice Liddell \(alice\)/);
    const token = await runCli(['token'], second.shell);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(JWT);
    await stop(second);

    // The restart's refresh rotated the refresh token (the demo rotates): it was written back before use.
    const afterRefresh = await readFile(kept, 'utf8');
    expect(afterRefresh).not.toBe(sealed);

    const wrong = await runCli(['agent', '--keep', kept], withPassphrase('wrong'));
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toBe(`Wrong passphrase for ${kept}: the agent did not start, and the file is unchanged. Start it again with the passphrase the file was kept with.\n`);
    expect(await readFile(kept, 'utf8')).toBe(afterRefresh);

    // One byte of the sealed data changed: refused as damaged, never replaced by an empty file.
    const parsed = JSON.parse(afterRefresh) as { data: string };
    const bytes = Buffer.from(parsed.data, 'base64');
    bytes[0] = bytes[0]! ^ 0xff;
    const damaged = JSON.stringify({ ...parsed, data: bytes.toString('base64') }) + '\n';
    await writeFile(kept, damaged);
    const refused = await runCli(['agent', '--keep', kept], withPassphrase('right'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`${kept} cannot be opened: its contents do not match their seal. It was left as it is; move it away to start without it.\n`);
    expect(await readFile(kept, 'utf8')).toBe(damaged);

    // Back to the good file: logout through the agent empties what it keeps.
    await writeFile(kept, afterRefresh);
    const third = await start('right');
    expect((await runCli(['logout'], third.shell)).code).toBe(0);
    await stop(third);
    const fourth = await start('right');
    expect((await runCli(['status'], fourth.shell)).code).toBe(1);
    await stop(fourth);
  });
});

describe('latchkey agent: SIGTERM during a refresh', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let machine: AgentMachine;
  const pids: number[] = [];
  const service = `latchkey-test-agent-sigterm-${randomUUID()}`;

  beforeAll(async () => {
    // 5-second tokens: the test waits for one to go stale, so the next `token` makes the agent refresh.
    demo = await startTestDemo({ accessTokenTtl: 5 });
    machine = await agentMachine(demo, service);
    await writeFile(join(machine.home, 'passphrase'), 'a passphrase for SIGTERM\n', { mode: 0o600 });
  });
  afterAll(async () => {
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all([demo?.close(), machine?.remove()]);
  });

  it('lets the refresh in flight answer its command and write its rotation to the kept file before it forgets and exits', async () => {
    const kept = join(machine.home, 'kept');
    const agentEnv = machine.env({ LATCHKEY_AGENT_PASSPHRASE_FILE: join(machine.home, 'passphrase') });
    const first = await startAgentProcess(agentEnv, ['--keep', kept]);
    pids.push(first.pid);
    const shell = machine.env({ LATCHKEY_AGENT_SOCK: first.socket });
    const login = await runCli(['login'], shell);
    expect(login.code, login.stderr).toBe(0);
    const issued = (await runCli(['token'], shell)).stdout.trim();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiryOf(issued) - Date.now()) + 100));

    // SIGTERM as soon as the provider has the refresh request: its answer (a rotated refresh token) is still on the way.
    const refreshes = demo.stats.tokenRequestsByGrant.refresh_token ?? 0;
    const { result } = startCli(['token'], shell);
    while ((demo.stats.tokenRequestsByGrant.refresh_token ?? 0) === refreshes) await new Promise((resolve) => setImmediate(resolve));
    process.kill(first.pid, 'SIGTERM');
    const token = await result;
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.trim()).toMatch(JWT);
    expect(token.stdout.trim()).not.toBe(issued);
    await exited(first.pid);

    // The rotated refresh token is what the file kept: a restarted agent refreshes with it, and the provider sees no reuse.
    const second = await startAgentProcess(agentEnv, ['--keep', kept]);
    pids.push(second.pid);
    const restarted = machine.env({ LATCHKEY_AGENT_SOCK: second.socket });
    const after = await runCli(['token', '--refresh'], restarted);
    expect(after.code, after.stderr).toBe(0);
    expect(demo.stats.reuseDetected).toBe(0);
    expect((await runCli(['logout'], restarted)).code).toBe(0);
    process.kill(second.pid, 'SIGTERM');
    await exited(second.pid);
  });
});
