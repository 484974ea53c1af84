import { AGENT_SOCK_VARIABLE, askAgentAbout, toErrorInfo } from '../../core/index.ts';
import type { LocalFacts } from '../../core/doctor.ts';
import { EXIT } from '../exit-codes.ts';
import type { Check } from './check.ts';

/**
 * Which store this command's sessions are kept in, and why: the agent LATCHKEY_AGENT_SOCK names (what it keeps,
 * and what guards its socket), else the plaintext file a person named, else the OS keychain — or, without any of
 * them, the three ways to get one.
 */
export async function storeCheck(env: NodeJS.ProcessEnv, service: string, keychain: LocalFacts['keychain']): Promise<Check> {
  const socket = env[AGENT_SOCK_VARIABLE];
  if (socket) {
    try {
      const about = await askAgentAbout(socket);
      const keeps = about.keptIn ? `its memory and ${about.keptIn}, sealed with a passphrase` : 'its memory only (gone when it stops)';
      return {
        name: 'Store',
        outcome: 'pass',
        detail:
          `the agent at ${socket} (pid ${about.pid}), because ${AGENT_SOCK_VARIABLE} is set; it keeps sessions in ${keeps}. ` +
          `Who may use it is decided by ${about.peers ?? 'its socket folder (0700, yours): only you and root can enter it'}.`,
      };
    } catch (error) {
      return { name: 'Store', outcome: 'fail', detail: toErrorInfo(error).message, fix: `Start an agent (eval "$(latchkey agent)") or unset ${AGENT_SOCK_VARIABLE}.`, failsWith: EXIT.signInNeeded };
    }
  }
  const plaintext = env.LATCHKEY_INSECURE_PLAINTEXT_FILE;
  if (plaintext) {
    return {
      name: 'Store',
      outcome: 'warn',
      detail: `the plaintext file ${plaintext}, because LATCHKEY_INSECURE_PLAINTEXT_FILE is set: anyone who can read it can act as you`,
      fix: 'Unset LATCHKEY_INSECURE_PLAINTEXT_FILE and use the OS keychain, or `eval "$(latchkey agent --keep FILE)"` for a file encrypted with a passphrase.',
    };
  }
  if (keychain.answers) return { name: 'Store', outcome: 'pass', detail: `the OS keychain (service "${service}"), because it answers and no agent is set (${AGENT_SOCK_VARIABLE})` };
  return {
    name: 'Store',
    outcome: 'fail',
    detail: `none: ${keychain.reason}, and no agent is set (${AGENT_SOCK_VARIABLE})`,
    fix: 'Start a Secret Service (gnome-keyring or KeePassXC) and unlock it (on macOS/Windows, unlock your login keychain); or start an agent: eval "$(latchkey agent)"; or keep sessions in a passphrase-encrypted file: eval "$(latchkey agent --keep FILE)".',
    failsWith: EXIT.usage,
  };
}
