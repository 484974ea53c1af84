import { loadConfig, createLogger, redactSecrets, toErrorInfo } from '../core/index.ts';
import type { AuthConfig } from '../core/index.ts';
import { accountsCommand, headersCommand, loginCommand, logoutCommand, statusCommand, stepUpCommand, switchCommand, tokenCommand } from './commands.ts';
import type { CliIo, CommandContext } from './context.ts';
import { exitCodeFor, type ExitCode } from './exit-codes.ts';

type Values = Record<string, string | boolean | undefined>;

const RUN = {
  login: loginCommand,
  'step-up': stepUpCommand,
  status: statusCommand,
  token: tokenCommand,
  headers: headersCommand,
  logout: logoutCommand,
  accounts: accountsCommand,
  switch: switchCommand,
  // Loaded only when asked for: it needs the protocol and HTTP libraries, which `token` usually does not.
  doctor: async (context: CommandContext) => (await import('./doctor/doctor.ts')).doctorCommand(context),
  agent: async (context: CommandContext, values: Values) => (await import('./agent/agent.ts')).agentCommand(context, values),
} satisfies Record<string, (context: CommandContext, values: Values, positionals: string[]) => Promise<ExitCode>>;

export type CommandName = keyof typeof RUN;

/**
 * Runs one command whose command line main.ts has checked: loads the configuration,
 * then the command; every failure becomes plain lines on stderr and its exit code.
 * main.ts imports this only then, so `--help` and usage errors never load the core.
 * Every line the command writes to stderr is redacted (`redactSecrets`).
 */
export async function runCommand(name: CommandName, values: Values, given: CliIo, positionals: string[] = []): Promise<ExitCode> {
  const io: CliIo = { ...given, stderr: (line) => given.stderr(redactSecrets(line)) };
  let config: AuthConfig;
  try {
    config = loadConfig({ env: io.env });
  } catch (error) {
    for (const line of toErrorInfo(error).message.split('\n')) io.stderr(line);
    return exitCodeFor(error);
  }

  // A session in a plaintext file is weaker than the keychain; whoever chose it hears so on every command.
  const plaintext = io.env.LATCHKEY_INSECURE_PLAINTEXT_FILE;
  if (plaintext && !io.env.LATCHKEY_AGENT_SOCK) {
    io.stderr(`Warning: LATCHKEY_INSECURE_PLAINTEXT_FILE is set, so the session's refresh token is kept unencrypted in ${plaintext}: anyone who can read that file can act as you. Unset it and use the OS keychain or \`latchkey agent\`.`);
  }

  // Log lines are for debugging (LATCHKEY_LOG_LEVEL=info|debug); problems are reported as plain lines.
  const logger = createLogger(io.env.LATCHKEY_LOG_LEVEL ? {} : { level: 'silent' });
  try {
    return await RUN[name]({ config, io, logger }, values, positionals);
  } catch (error) {
    for (const line of toErrorInfo(error).message.split('\n')) io.stderr(line);
    return exitCodeFor(error);
  }
}
