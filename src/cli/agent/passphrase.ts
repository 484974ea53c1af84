import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { AuthError } from '../../core/index.ts';
import type { CliIo } from '../context.ts';

/** Names a file whose first line is the passphrase of `--keep` (a test, a container's secret, or `/dev/stdin`). */
export const PASSPHRASE_FILE_VARIABLE = 'LATCHKEY_AGENT_PASSPHRASE_FILE';
/** Set by the background start for its child only: the passphrase it already asked comes on this descriptor. */
export const PASSPHRASE_FD_VARIABLE = 'LATCHKEY_AGENT_PASSPHRASE_FD';

/**
 * The passphrase the kept file is sealed with, asked once when the agent starts: from the file that
 * LATCHKEY_AGENT_PASSPHRASE_FILE names, else typed at the terminal (not echoed) — twice when the file does not exist
 * yet, as ssh-keygen asks for a new key's: a typing mistake would seal the sessions with a passphrase nobody knows,
 * and the next start could not open them. Never from an argument or an environment variable's value, which other
 * processes of the user can read.
 */
export async function askPassphrase(io: CliIo, file: string): Promise<string> {
  const named = io.env[PASSPHRASE_FILE_VARIABLE];
  let passphrase: string;
  const handedOn = io.env[PASSPHRASE_FD_VARIABLE];
  if (handedOn) {
    passphrase = readFileSync(Number(handedOn), 'utf8').split('\n')[0] ?? '';
  } else if (named) {
    try {
      passphrase = readFileSync(named, 'utf8').split('\n')[0] ?? '';
    } catch (error) {
      throw new AuthError('config_invalid', `${PASSPHRASE_FILE_VARIABLE}: ${named} cannot be read: ${(error as Error).message}.`, { cause: error });
    }
  } else if (existsSync(file)) {
    passphrase = await readFromTerminal(`Passphrase for ${file}: `);
  } else {
    passphrase = await readFromTerminal(`Passphrase for ${file} (a new file): `);
    if (passphrase.length > 0 && (await readFromTerminal('The same passphrase again: ')) !== passphrase) {
      throw new AuthError('config_invalid', `The two passphrases for ${file} differ: the agent was not started, and no file was written. Start it again.`);
    }
  }
  if (passphrase.length === 0) throw new AuthError('config_invalid', `The passphrase for ${file} is empty; an empty passphrase protects nothing.`);
  return passphrase;
}

/** Reads one line from the controlling terminal without echoing it; `eval "$(latchkey agent --keep FILE)"` still has one. */
async function readFromTerminal(prompt: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw new AuthError('config_invalid', `--keep needs a passphrase, and there is no terminal to ask it on: set ${PASSPHRASE_FILE_VARIABLE} to a file that holds it.`);
  }
  const input = new ReadStream(fd);
  input.setRawMode(true);
  const writeTty = (text: string) => void writeSync(fd, text);
  writeTty(prompt);
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      input.on('data', (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return resolve(typed);
          if (char === '\u0003') return reject(new AuthError('sign_in_cancelled', 'The agent was not started.'));
          if (char === '\u007f') typed = typed.slice(0, -1);
          else typed += char;
        }
      });
    });
  } finally {
    writeTty('\n');
    input.setRawMode(false);
    input.destroy();
  }
}
