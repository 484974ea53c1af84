import { join } from 'node:path';
import electronLog from 'electron-log/node';
import { createLogger, parseLevel } from '../core/index.ts';
import type { Logger } from '../core/index.ts';

export const LOG_FILE_NAME = 'main.log';
/** At this size the file is renamed to main.old.log and a new one started: two files, at most ~2 MiB. */
export const MAX_LOG_BYTES = 1024 * 1024;

/**
 * The shell's logger. Every entry goes to stderr at LATCHKEY_LOG_LEVEL
 * (default warn), as in the CLI, and to `main.log` in the OS logs folder
 * (`app.getPath('logs')`) at info — debug when LATCHKEY_LOG_LEVEL asks for it —
 * so a failed sign-in leaves something a user can send. Both get the core's
 * lines, with its redaction: fingerprints, never a token, code or verifier.
 * electron-log's Node entry writes and rotates the file; its Electron entry
 * is not used because it opens an IPC channel through which any page could
 * write to the log, outside the app's sender checks.
 */
export function createAppLogger(logsDir: string, env: NodeJS.ProcessEnv = process.env): { logger: Logger; filePath: string } {
  const filePath = join(logsDir, LOG_FILE_NAME);
  const file = electronLog.create({ logId: `latchkey:${filePath}` });
  // The file only: stderr gets the same lines from the core's logger, and nothing goes to pages or a server.
  file.transports.console.level = false;
  if (file.transports.ipc) file.transports.ipc.level = false;
  file.transports.remote.level = false;
  file.transports.file.resolvePathFn = () => filePath;
  file.transports.file.format = '{text}';
  file.transports.file.maxSize = MAX_LOG_BYTES;
  file.transports.file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };

  const toFile = createLogger({ level: parseLevel(env.LATCHKEY_LOG_LEVEL) === 'debug' ? 'debug' : 'info', sink: (line) => file.info(line) });
  const toStderr = createLogger({ level: parseLevel(env.LATCHKEY_LOG_LEVEL) ?? 'warn' });
  const both = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    toStderr[level](message, fields);
    toFile[level](message, fields);
  };
  return { logger: { debug: both('debug'), info: both('info'), warn: both('warn'), error: both('error') }, filePath };
}

/**
 * Logs what would otherwise be lost: an exception nothing caught and a
 * rejection nothing handled in the main process. Returns a function that stops.
 */
export function logUncaughtErrors(target: NodeJS.Process, logger: Logger): () => void {
  const onException = (error: unknown) => logger.error('uncaught exception in the main process', describeError(error));
  const onRejection = (reason: unknown) => logger.error('unhandled promise rejection in the main process', describeError(reason));
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  return { error: `${error.name}: ${error.message}`, ...(typeof code === 'string' ? { code } : {}), stack: error.stack?.split('\n').slice(1, 8).map((line) => line.trim()) };
}
