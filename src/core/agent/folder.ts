import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AuthError } from '../errors.ts';
import { assertPrivateFolder } from '../entry/lock-folder.ts';

// Where the agent's socket lives: a folder only this user can enter, which the agent creates and checks.

/** The variable that names the agent's socket, as SSH_AUTH_SOCK names ssh-agent's. */
export const AGENT_SOCK_VARIABLE = 'LATCHKEY_AGENT_SOCK';

/** Unix sockets' paths are limited (108 bytes on Linux, 104 on macOS, with the terminating NUL). */
const MAX_SOCKET_PATH = 103;

/**
 * The socket's default path: `latchkey/agent.sock` in XDG_RUNTIME_DIR (a per-user folder the OS made 0700),
 * else `latchkey-<uid>/agent.sock` in the temp folder.
 */
export function defaultAgentSocket(env: NodeJS.ProcessEnv): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime) return join(runtime, 'latchkey', 'agent.sock');
  return join(tmpdir(), `latchkey-${process.getuid?.() ?? 'user'}`, 'agent.sock');
}

/**
 * Creates the socket's folder 0700 (or checks the one there): a folder that is not a real folder, belongs to another
 * user or lets others in is refused, since whoever can enter it can ask the agent for tokens.
 */
export function prepareSocketFolder(socketPath: string): void {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new AuthError('config_invalid', `The agent's socket path ${socketPath} is longer than a socket path may be (${MAX_SOCKET_PATH} bytes); choose a shorter one with --socket.`);
  }
  assertPrivateFolder(dirname(socketPath), "agent's socket folder");
}
