// What the agent's tests share: a machine with no D-Bus session at all (so no OS keychain), private home, temp
// and runtime folders to scan for leaks, and starting and stopping `latchkey agent` as a user's shell does.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoCliEnv, runCli, type CliResult } from '../../helpers/cli.ts';

export interface AgentMachine {
  home: string;
  temp: string;
  runtime: string;
  dataDir: string;
  /** The environment of a shell on this machine: no D-Bus session, its own folders, the demo's settings. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

/** A machine like a server or container: no D-Bus session bus, so no Secret Service. */
export async function agentMachine(demo: { issuer: string; apiUrl: string }, service: string): Promise<AgentMachine> {
  const root = await mkdtemp(join(tmpdir(), 'latchkey-agent-'));
  const [home, temp, runtime, dataDir] = ['home', 'tmp', 'run', 'data'].map((name) => join(root, name)) as [string, string, string, string];
  await Promise.all([home, temp, runtime, dataDir].map((folder) => mkdir(folder, { mode: 0o700 })));
  return {
    home,
    temp,
    runtime,
    dataDir,
    env(extra = {}) {
      const env = demoCliEnv(demo, { service, dataDir }, { HOME: home, TMPDIR: temp, XDG_RUNTIME_DIR: runtime });
      delete env.DBUS_SESSION_BUS_ADDRESS;
      delete env.LATCHKEY_AGENT_SOCK;
      return { ...env, ...extra };
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** What `eval "$(latchkey agent)"` would set: the socket, and the agent's pid from its echo line. */
export function parseAgentLines(result: CliResult): { socket: string; pid: number } {
  // sh, csh (setenv) or fish (set -gx).
  const socket = /^(?:LATCHKEY_AGENT_SOCK=|setenv LATCHKEY_AGENT_SOCK |set -gx LATCHKEY_AGENT_SOCK )'([^']+)';/m.exec(result.stdout)?.[1];
  const pid = /^echo Latchkey agent pid (\d+);$/m.exec(result.stdout)?.[1];
  if (!socket || !pid) throw new Error(`latchkey agent printed no shell lines: ${result.stdout}${result.stderr}`);
  return { socket, pid: Number(pid) };
}

/** Starts an agent as `eval "$(latchkey agent …)"` does. */
export async function startAgentProcess(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ socket: string; pid: number; result: CliResult }> {
  const result = await runCli(['agent', ...args], env);
  if (result.code !== 0) throw new Error(`latchkey agent exited ${result.code}: ${result.stderr}`);
  return { ...parseAgentLines(result), result };
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `pid` has exited (polled: it is not our child), or rejects after `withinMs`. */
export async function exited(pid: number, withinMs = 15_000): Promise<void> {
  const until = Date.now() + withinMs;
  while (isRunning(pid)) {
    if (Date.now() > until) throw new Error(`process ${pid} still runs after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The access token's expiry (JWT `exp`, RFC 7519 §4.1.4) in epoch ms. */
export function expiryOf(jwt: string): number {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
  return payload.exp * 1000;
}
