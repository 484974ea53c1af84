// An API's answer that asks for a stronger or more recent sign-in, rather than a new token: read by the window
// (after an API call's 401) and by `latchkey step-up` (a WWW-Authenticate value handed to it). A pure function.

/**
 * What a step-up challenge asks the sign-in for: RFC 9470's `acr_values` and `max_age`
 * (`error="insufficient_user_authentication"`), or the claims of a Microsoft Entra claims challenge
 * (`error="insufficient_claims"`, `claims` base64-encoded JSON), to send as the authorization request's
 * `claims` parameter (OpenID Connect Core §5.5).
 */
export interface StepUpRequest {
  /** Space-separated `acr` values, most preferred first. */
  acrValues?: string;
  /** Seconds: the sign-in must be at most this old. */
  maxAge?: number;
  /** The `claims` request, as JSON text. */
  claims?: string;
  /** Why, in the API's own words (its `error_description`), when it gave them. */
  reason?: string;
}

const PARAMETER = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g;

/**
 * The step-up a `WWW-Authenticate` value asks for, or undefined when it asks for none (an expired token's
 * `invalid_token`, a DPoP nonce): RFC 9470 §3 and Entra's claims challenge, whatever the scheme (Bearer, DPoP).
 */
export function parseStepUpChallenge(header: string | null | undefined): StepUpRequest | undefined {
  if (!header) return undefined;
  const parameters = new Map<string, string>();
  for (const [, name, quoted, token] of header.matchAll(PARAMETER)) {
    const key = name!.toLowerCase();
    if (!parameters.has(key)) parameters.set(key, quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : token!);
  }
  const error = parameters.get('error');
  const reason = parameters.get('error_description');
  const why = reason ? { reason } : {};
  if (error === 'insufficient_user_authentication') {
    const acrValues = parameters.get('acr_values')?.trim();
    const maxAge = Number(parameters.get('max_age'));
    const request: StepUpRequest = { ...why };
    if (acrValues) request.acrValues = acrValues;
    if (Number.isInteger(maxAge) && maxAge >= 0) request.maxAge = maxAge;
    return request.acrValues !== undefined || request.maxAge !== undefined ? request : undefined;
  }
  if (error === 'insufficient_claims') {
    const claims = claimsJson(parameters.get('claims'));
    return claims === undefined ? undefined : { claims, ...why };
  }
  return undefined;
}

/** Entra sends the claims request base64-encoded; JSON given as it is is taken too. Undefined unless it is a JSON object. */
function claimsJson(value: string | undefined): string | undefined {
  if (!value) return undefined;
  for (const candidate of [value, decodeBase64(value)]) {
    if (candidate === undefined) continue;
    try {
      const parsed = JSON.parse(candidate) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return JSON.stringify(parsed);
    } catch {
      // Not this form.
    }
  }
  return undefined;
}

function decodeBase64(value: string): string | undefined {
  try {
    const standard = value.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(standard + '='.repeat((4 - (standard.length % 4)) % 4)), (char) => char.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
