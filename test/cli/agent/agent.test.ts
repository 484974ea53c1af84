// `latchkey agent` on a machine with no D-Bus session at all (a server, a container, an SSH session): the agent
// keeps the session in its memory and every command uses it, over the real demo provider, with the code approved
// in Chromium as on another device. Nothing of the session may reach the disk.
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from '../../../support/browser.ts';
import { enterDeviceCode } from '../../../support/device-approval.ts';
import { deviceCodePrinted, JWT, runCli, startCli } from '../../helpers/cli.ts';
import { issuedSecrets, startTestDemo } from '../../helpers/demo.ts';
import { findLeaks, readFolders } from '../../helpers/leaks.ts';
import { agentMachine, exited, expiryOf, isRunning, startAgentProcess, type AgentMachine } from './agent-helpers.ts';

const REFRESH_GRANT = 'refresh_token';
/** Where the session's locks live on Linux (the account's home, whatever HOME says: src/core/entry/lock-folder.ts). */
const LOCK_FOLDER = join(userInfo().homedir, '.cache', 'latchkey', 'locks');

describe('latchkey agent where no keychain runs', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let browser: Browser;
  let machine: AgentMachine;
  const pids: number[] = [];
  const service = `latchkey-test-agent-${randomUUID()}`;

  beforeAll(async () => {
    // Tokens of 20 s: long enough that three commands on a busy machine see no renewal (it starts 13 s in), short
    // enough to wait for one to expire.
    [demo, browser] = await Promise.all([startTestDemo({ accessTokenTtl: 20 }), launchBrowser()]);
    machine = await agentMachine(demo, service);
  });
  afterAll(async () => {
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await Promise.all([demo?.close(), browser?.close(), machine?.remove()]);
  });

  const signInWithCode = async (env: NodeJS.ProcessEnv) => {
    const { child, result } = startCli(['login', '--device'], env);
    const shown = await deviceCodePrinted(child).catch(async (error: unknown) => {
      const ended = await result;
      throw new Error(`${(error as Error).message} (exit ${ended.code}: ${ended.stderr})`);
    });
    await enterDeviceCode(browser, shown.verificationUri, shown.userCode);
    return result;
  };

  it('without a keychain or an agent, login and token name the three ways in one message and exit 2', async () => {
    for (const args of [['login', '--device'], ['token']]) {
      const result = await runCli(args, machine.env());
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^No OS keychain answers here and no agent is set \(LATCHKEY_AGENT_SOCK\), so .*start a Secret Service .*eval "\$\(latchkey agent\)".*eval "\$\(latchkey agent --keep FILE\)"\.\n$/);
    }
  });

  it('eval "$(latchkey agent)": sign in with a code, tokens for other shells without asking the provider, DPoP headers, one refresh for four callers, status; stopping it ends the session', async () => {
    const started = await startAgentProcess(machine.env());
    pids.push(started.pid);
    expect(started.socket.startsWith(machine.runtime)).toBe(true);
    expect((await stat(dirname(started.socket))).mode & 0o777).toBe(0o700);
    const shell = machine.env({ LATCHKEY_AGENT_SOCK: started.socket });

    const login = await signInWithCode(shell);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/Signed in as Alice Liddell \(alice\)\n$/);

    // Three other shells: the same token, and no request to the provider.
    const requestsBefore = demo.stats.tokenRequests;
    const grantsBefore = JSON.stringify(demo.stats.tokenRequestsByGrant);
    const tokens = await Promise.all([0, 1, 2].map(() => runCli(['token'], shell)));
    for (const token of tokens) expect(token.code, token.stderr).toBe(0);
    const first = tokens[0]!.stdout.trim();
    expect(first).toMatch(JWT);
    expect(tokens.map((token) => token.stdout.trim())).toEqual([first, first, first]);
    expect(demo.stats.tokenRequests, `${grantsBefore} → ${JSON.stringify(demo.stats.tokenRequestsByGrant)}`).toBe(requestsBefore);

    // A DPoP-bound session (the demo offers DPoP): the agent makes the proof, and the API accepts it.
    const printed = await runCli(['headers', `${demo.apiUrl}/me`], shell);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^Authorization: DPoP .+\nDPoP: .+\n$/);
    const headers = Object.fromEntries(printed.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
    expect((await fetch(`${demo.apiUrl}/me`, { headers })).status).toBe(200);

    // No token or key anywhere on disk while the agent runs: home, temp, the runtime folder, the data and lock folders.
    const leaks = findLeaks(issuedSecrets(), await readFolders(machine.home, machine.temp, machine.runtime, machine.dataDir, LOCK_FOLDER));
    expect(leaks).toEqual([]);

    // After the access token expired, four commands at once cause one refresh.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiryOf(first) - Date.now()) + 200));
    const refreshesBefore = demo.stats.tokenRequestsByGrant[REFRESH_GRANT] ?? 0;
    const renewed = await Promise.all([0, 1, 2, 3].map(() => runCli(['token'], shell)));
    for (const token of renewed) expect(token.code, token.stderr).toBe(0);
    const second = renewed[0]!.stdout.trim();
    expect(second).not.toBe(first);
    expect(renewed.map((token) => token.stdout.trim())).toEqual([second, second, second, second]);
    expect((demo.stats.tokenRequestsByGrant[REFRESH_GRANT] ?? 0) - refreshesBefore).toBe(1);

    const status = await runCli(['status', '--json'], shell);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ signedIn: true, keychain: 'agent', user: { sub: 'alice' } });

    const stop = await runCli(['agent', '--stop'], shell);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('unset LATCHKEY_AGENT_SOCK;\necho Latchkey agent stopped;\n');
    await exited(started.pid);
    const after = await runCli(['token'], shell);
    expect(after.code).toBe(1);
    expect(after.stdout).toBe('');
    expect(after.stderr).toMatch(/^No Latchkey agent runs at .* \(LATCHKEY_AGENT_SOCK\): it was stopped or its time ran out, and the session it kept ended with it\. Start one \(eval "\$\(latchkey agent\)"\) and run `latchkey login`\.\n$/);
  });

  it('logout through the agent revokes and forgets the session; the agent then says not signed in', async () => {
    const started = await startAgentProcess(machine.env());
    pids.push(started.pid);
    const shell = machine.env({ LATCHKEY_AGENT_SOCK: started.socket });
    expect((await signInWithCode(shell)).code).toBe(0);
    const logout = await runCli(['logout'], shell);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toMatch(/^Signed out\.\n/);
    const status = await runCli(['status'], shell);
    expect(status.code).toBe(1);
    expect(status.stdout).toBe(`Not signed in at ${demo.issuer}/. Run \`latchkey login\`.\n`);
    const token = await runCli(['token'], shell);
    expect(token.code).toBe(1);
    process.kill(started.pid, 'SIGTERM');
    await exited(started.pid);
  });
});
