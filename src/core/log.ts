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

// A JWT (an ID or access token), or a credential in a URL's query or a form body.
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;
const CREDENTIAL_PARAMETER = /\b(code|code_verifier|refresh_token|access_token|id_token|id_token_hint|client_secret)=([^&\s"']+)/g;

/**
 * Replaces anything shaped like a token or credential parameter with its
 * fingerprint. Callers already log fingerprints only; this is the backstop for
 * text they do not control, such as an error message quoting a URL.
 */
export function redactSecrets(text: string): string {
  return text.replace(JWT, (jwt) => `[jwt ${fingerprint(jwt)}]`).replace(CREDENTIAL_PARAMETER, (_match, name: string, value: string) => `${name}=[${fingerprint(value)}]`);
}

/**
 * A leveled logger writing one line per entry to `sink` (stderr by default),
 * each passed through `redactSecrets`. `LATCHKEY_LOG_LEVEL` picks the level
 * when none is given.
 */
export function createLogger(options: { level?: LogLevel; sink?: (line: string) => void } = {}): Logger {
  const level = options.level ?? parseLevel(process.env.LATCHKEY_LOG_LEVEL) ?? 'warn';
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const extra = fields ? ' ' + JSON.stringify(fields) : '';
    sink(redactSecrets(`${new Date().toISOString()} ${at} ${message}${extra}`));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** The level named by `value` (e.g. `LATCHKEY_LOG_LEVEL`), or undefined when it names none. */
export function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && Object.hasOwn(ORDER, value) ? (value as LogLevel) : undefined;
}

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];
