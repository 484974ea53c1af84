import type { AuthConfig, Logger } from '../core/index.ts';

/** Where a command writes: the process's streams in use, strings in tests. */
export interface CliIo {
  stdout(text: string): void;
  /** One plain line per problem. */
  stderr(line: string): void;
  env: NodeJS.ProcessEnv;
  /** stdout is a terminal (a person reads it): a sign-in code comes with a QR code. */
  stdoutIsTerminal?: () => boolean;
}

/** What every command runs with. */
export interface CommandContext {
  config: AuthConfig;
  io: CliIo;
  logger: Logger;
}
