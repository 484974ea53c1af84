import type { Logger, LogLevel } from '../shared/logger.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** The demo's own stderr logger (`npm run idp`), at `level` (default warn): the demo stays independent of the auth core. */
export function createConsoleLogger(level: string | undefined): Logger {
  const threshold = level !== undefined && Object.hasOwn(ORDER, level) ? ORDER[level as LogLevel] : ORDER.warn;
  const emit = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] >= threshold) console.error(`${new Date().toISOString()} ${at} ${message}${fields ? ' ' + JSON.stringify(fields) : ''}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
