import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { resolve as absolute } from 'node:path';
import { AGENT_SOCK_VARIABLE, askAgentAbout, AuthError, createMemoryKeychain, defaultAgentSocket, openSealedKeychain, prepareSocketFolder, startAgent, stopAgent } from '../../core/index.ts';
import type { CommandContext } from '../context.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { askPassphrase, PASSPHRASE_FD_VARIABLE } from './passphrase.ts';
import { agentStartedLines, agentStoppedLines, type Shell } from './shell-lines.ts';

type Values = Record<string, string | boolean | undefined>;

/** Set by the background start for its child: the descriptor to say "ready" on once the socket listens. */
const READY_FD_VARIABLE = 'LATCHKEY_AGENT_READY_FD';
/** The longest delay setTimeout honours (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `agent [--foreground] [--stop] [--csh|--fish] [--lifetime S] [--idle S] [--keep FILE] [--socket PATH]`:
 * in the manner of ssh-agent. Without --foreground it starts the agent in the background and prints the lines
 * that set LATCHKEY_AGENT_SOCK (for `eval`); with it, it prints them and serves until stopped (a systemd user unit,
 * a container's entry point). --stop asks the agent to forget everything and stop.
 */
export async function agentCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io } = context;
  const shell: Shell = values.csh ? 'csh' : values.fish ? 'fish' : 'sh';
  const lifetimeMs = seconds(values.lifetime, '--lifetime');
  const idleMs = seconds(values.idle, '--idle');
  const keep = typeof values.keep === 'string' ? values.keep : undefined;
  if (values.stop) {
    const socketPath = typeof values.socket === 'string' ? values.socket : io.env[AGENT_SOCK_VARIABLE] || defaultAgentSocket(io.env);
    try {
      await stopAgent(socketPath);
    } catch (error) {
      if (!(error instanceof AuthError) || error.code !== 'session_ended') throw error;
      io.stderr(`No Latchkey agent runs at ${socketPath}; there is nothing to stop.`);
      return EXIT.signInNeeded;
    }
    io.stdout(agentStoppedLines(shell));
    return EXIT.ok;
  }
  const socketPath = typeof values.socket === 'string' ? values.socket : defaultAgentSocket(io.env);

  if (!values.foreground) {
    // One agent per socket: a shell profile that runs `eval "$(latchkey agent)"` in every shell gets the one running —
    // only from a folder that is ours and closed to others, or another user could plant an agent of theirs there.
    prepareSocketFolder(socketPath);
    const running = await askAgentAbout(socketPath).catch(() => undefined);
    if (running) {
      io.stderr(`A Latchkey agent already runs at ${socketPath} (pid ${running.pid}${running.keptIn ? `, keeping ${running.keptIn}` : ''}); using it.`);
      io.stdout(agentStartedLines(shell, socketPath, running.pid));
      return EXIT.ok;
    }
    const passphrase = keep === undefined ? undefined : await askPassphrase(io, keep);
    const pid = await startInBackground(io.env, socketPath, values, passphrase);
    io.stdout(agentStartedLines(shell, socketPath, pid));
    return EXIT.ok;
  }

  const keychain = keep === undefined ? createMemoryKeychain(undefined, 'agent') : await openSealedKeychain(keep, await askPassphrase(io, keep));
  const agent = await startAgent({
    config: context.config,
    keychain,
    socketPath,
    ...(keep === undefined ? {} : { keptIn: absolute(keep) }),
    logger: context.logger,
    ...(lifetimeMs === undefined ? {} : { lifetimeMs }),
    ...(idleMs === undefined ? {} : { idleMs }),
  });
  // SIGTERM (systemd, docker stop) and Ctrl-C forget everything, after a refresh in flight stored its rotation.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => void agent.stop(`it got ${signal}`));
  const readyFd = io.env[READY_FD_VARIABLE];
  if (readyFd) {
    // The background start reads this, prints the lines itself and leaves; nobody reads this process's output after.
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    writeSync(Number(readyFd), 'ready\n');
    closeSync(Number(readyFd));
  } else {
    io.stdout(agentStartedLines(shell, socketPath, process.pid));
  }
  const why = await agent.stopped;
  if (!readyFd) io.stderr(`The Latchkey agent stopped (${why}); its sessions are forgotten.`);
  return EXIT.ok;
}

/** Starts `latchkey agent --foreground` detached, hands it the passphrase on its stdin, and waits until it listens. */
async function startInBackground(env: NodeJS.ProcessEnv, socketPath: string, values: Values, passphrase: string | undefined): Promise<number> {
  const args = [...process.execArgv, process.argv[1] ?? '', 'agent', '--foreground', '--socket', socketPath];
  for (const name of ['lifetime', 'idle', 'keep'] as const) if (typeof values[name] === 'string') args.push(`--${name}`, values[name]);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    env: { ...env, [READY_FD_VARIABLE]: '3', ...(passphrase === undefined ? {} : { [PASSPHRASE_FD_VARIABLE]: '0' }) },
  });
  child.stdin?.end(passphrase === undefined ? '' : passphrase + '\n');
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream;
  const ready = await new Promise<boolean>((resolve) => {
    readyPipe.on('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  if (!ready || child.pid === undefined) {
    throw new AuthError('config_invalid', stderr.trim() || 'The agent did not start.');
  }
  child.stderr?.destroy();
  (readyPipe as unknown as { destroy(): void }).destroy();
  child.unref();
  return child.pid;
}

function seconds(value: string | boolean | undefined, option: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const count = Number(value);
  if (!Number.isFinite(count) || count <= 0) throw new AuthError('invalid_argument', `${option}: "${value}" is not a positive number of seconds.`);
  if (count * 1000 > MAX_TIMER_MS) throw new AuthError('invalid_argument', `${option}: "${value}" is too long; use at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds.`);
  return Math.round(count * 1000);
}
