import { AuthError } from '../errors.ts';

/** Beyond this, a clock difference is reported: ID token checks allow the provider's tolerance, and HTTP dates have 1 s resolution. */
export const REPORTED_SKEW_MS = 60_000;

const TIMESTAMP_CHECK = 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED';

/**
 * How far this computer's clock is from the provider's, from the `Date` header
 * of a response (RFC 9110 §6.6.1), taken against the middle of the request:
 * positive when this computer is ahead. Undefined without a usable header.
 */
export function clockSkewFromDate(dateHeader: string | null, sentAt: number, receivedAt: number): number | undefined {
  const providerTime = dateHeader ? Date.parse(dateHeader) : Number.NaN;
  if (Number.isNaN(providerTime)) return undefined;
  return Math.round((sentAt + receivedAt) / 2) - providerTime;
}

/** "4 min 59 s ahead of" / "90 s behind" for a skew in ms (positive: this computer is ahead). */
export function describeSkew(skewMs: number): string {
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  const amount = seconds >= 120 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
  return `${amount} ${skewMs > 0 ? 'ahead of' : 'behind'}`;
}

/**
 * An ID token refused for its `exp`, `nbf` or `iat` (OpenID Connect Core §3.1.3.7
 * items 9–10) is, on a desktop, most often a wrong clock here rather than a bad
 * token: say so, with both times. Undefined for any other failure.
 */
export function clockSkewError(error: unknown): AuthError | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; current = current.cause, depth++) {
    if ((current as { code?: unknown }).code !== TIMESTAMP_CHECK) continue;
    // openid-client wraps oauth4webapi's error under the same code; the claims are on the innermost one's cause.
    if (current.cause instanceof Error) continue;
    const detail = current.cause as { claims?: Record<string, unknown>; now?: unknown; claim?: unknown } | undefined;
    const claim = typeof detail?.claim === 'string' ? detail.claim : undefined;
    if (claim !== 'exp' && claim !== 'nbf' && claim !== 'iat') return undefined;
    const now = typeof detail?.now === 'number' ? detail.now : undefined;
    const issuedAt = detail?.claims?.iat;
    const reference = typeof issuedAt === 'number' ? issuedAt : detail?.claims?.[claim];
    const times =
      now !== undefined && typeof reference === 'number'
        ? ` The token says it was ${typeof issuedAt === 'number' ? 'issued' : claim === 'exp' ? 'to expire' : 'valid from'} at ${isoSeconds(reference)}; this computer's clock reads ${isoSeconds(now)}` +
          (typeof issuedAt === 'number' ? `, ${describeSkew((now - issuedAt) * 1000)} the provider.` : '.')
        : '';
    return new AuthError(
      'id_token_invalid',
      `The provider's ID token was refused because its "${claim}" time does not fit this computer's clock, which may be wrong.${times} Set the date, time and time zone automatically, then try again.`,
      { cause: error },
    );
  }
  return undefined;
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
