import { createHash } from 'node:crypto';
import type { Logger, LogLevel } from '../shared/logger.ts';
import { inertText } from '../shared/inert-text.ts';


const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A short, non-reversible name for a secret, for logs: the first 6 hex chars of
 * its SHA-256. Tokens, codes and verifiers are never logged; this is.
 */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 6);
}

// The names under which a secret travels: OAuth parameters (RFC 6749, 7009 `token`, 7636, 8628
// `device_code`, 8693, 7523 assertions), in a form, a query (also percent-encoded inside another
// URL: `code%3D…%26`) or a JSON body (also JSON quoted inside JSON), in any case.
const SECRET_NAMES = 'code|code_verifier|refresh_token|access_token|id_token|id_token_hint|client_secret|client_assertion|assertion|token|device_code|subject_token|actor_token|logout_token|password';
const CREDENTIAL_PARAMETER = new RegExp(`(?:(?<!\\w)|(?<=%[\\da-f]{2}))(${SECRET_NAMES})(=|%3D)((?:(?!%26)[^&\\s"'<>\\\\])+)`, 'gi');
// In JSON, a bare "code" is an error's code far more often than an authorization code (which never travels in JSON).
const SECRET_MEMBERS = SECRET_NAMES.replace(/^code\|/, '');
const CREDENTIAL_MEMBER = new RegExp(`(\\\\*")(${SECRET_MEMBERS})\\1(\\s*:\\s*)\\1([^"\\\\]*)\\1`, 'gi');
// A JWS (header.payload.signature) or a JWE (five parts, the second empty with direct encryption).
const JWT = /\beyJ[\w-]{4,}\.[\w-]*\.[\w-]*(?:\.[\w-]+\.[\w-]+)?/g;
// RFC 6750 / 7617 / 9449 credentials in an Authorization header (RFC 7235 token68).
const AUTHORIZATION = /\b(Bearer|Basic|DPoP)(\s+)([\w\-.~+/]{8,}=*)/gi;
// Credentials in a URL's userinfo (`http://user:password@proxy`).
const USERINFO_PLACEHOLDER = 'USER:PASSWORD'; // the example our own messages give
const USERINFO = /\b([a-z][a-z\d+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi;

/**
 * Replaces anything shaped like a token or credential with its fingerprint.
 * Callers already log fingerprints only; this is the backstop for text they do
 * not control, such as an error message quoting a URL, a body or a provider's
 * `error_description` — on every log line, every AuthError message (so the CLI's
 * stderr and the window), and every line the CLI writes to stderr.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(JWT, (jwt) => `[jwt ${fingerprint(jwt)}]`)
    .replace(CREDENTIAL_MEMBER, (_match, quote: string, name: string, colon: string, value: string) => `${quote}${name}${quote}${colon}${quote}[${fingerprint(value)}]${quote}`)
    .replace(CREDENTIAL_PARAMETER, (_match, name: string, equals: string, value: string) => `${name}${equals}[${fingerprint(value)}]`)
    .replace(AUTHORIZATION, (_match, scheme: string, space: string, value: string) => `${scheme}${space}[${fingerprint(value)}]`)
    .replace(USERINFO, (match, scheme: string, userinfo: string) => (userinfo === USERINFO_PLACEHOLDER ? match : `${scheme}[credentials ${fingerprint(userinfo)}]@`));
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
    // One line, inert: a provider's words in a field can neither drive a terminal that shows the log nor forge a line of it.
    sink(inertText(redactSecrets(`${new Date().toISOString()} ${at} ${message}${extra}`)));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** The level named by `value` (e.g. `LATCHKEY_LOG_LEVEL`), or undefined when it names none. */
export function parseLevel(value: string | undefined): LogLevel | undefined {
  return value && Object.hasOwn(ORDER, value) ? (value as LogLevel) : undefined;
}

export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];
