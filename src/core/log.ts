import { createHash } from 'node:crypto';
import type { Logger, LogLevel } from '../shared/logger.ts';

export type { Logger, LogLevel };

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A short, non-reversible name for a secret, for logs: the first 6 hex chars of
 * its SHA-256. Tokens, codes and verifiers are never logged; this is.
 */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 6);
}

/**
 * A leveled logger writing one line per entry to `sink` (stderr by default).
 * `LATCHKEY_LOG_LEVEL` picks the level when none is given.
 */
export function createLogger(options: { level?: LogLevel; sink?: (line: string) => void } = {}): Logger {
  const level = options.level ?? parseLevel(process.env.LATCHKEY_LOG_LEVEL) ?? 'warn';
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const extra = fields ? ' ' + JSON.stringify(fields) : '';
    sink(`${new Date().toISOString()} ${at} ${message}${extra}`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** The level named by `value` (e.g. `LATCHKEY_LOG_LEVEL`), or undefined when it names none. */
export function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && Object.hasOwn(ORDER, value) ? (value as LogLevel) : undefined;
}

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];
