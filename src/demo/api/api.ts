import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { Logger } from '../../shared/logger.ts';
import { DEMO_ACR_TWO_STEP, DEMO_AUDIENCE, DEMO_FILES_PATH, DEMO_FILES_RESOURCE, DEMO_STEP_UP_MAX_AGE, DEMO_STEP_UP_PATH } from '../../shared/constants.ts';
import { createDpopChecker, DpopRejection } from './dpop-check.ts';

const REALM = 'latchkey-demo';

/**
 * The demo API's request handler. `GET /me` answers the token's subject and
 * claims after checking the JWT access token (RFC 9068) against the provider's
 * JWKS: signature (RS256 only), issuer, audience and expiry; `GET /files/me`, the
 * second API's, does the same for tokens of the file store's audience; `GET /strong/me`
 * also wants the two-step sign-in, recently (RFC 9470: else 401 `insufficient_user_authentication`
 * with the `acr_values` and `max_age` it wants). A token bound to a
 * key (`cnf.jkt`, RFC 9449) is accepted only as `Authorization: DPoP` with a
 * proof that passes every check (see dpop-check.ts) — presented as Bearer it is
 * refused (RFC 9449 §7.1); an unbound token only as Bearer. A missing or bad
 * token gets 401 with a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449
 * §7.1); with `requireDpopNonce`, a proof without the current nonce gets
 * `use_dpop_nonce` and a `DPoP-Nonce` (RFC 9449 §9). The app's origin gets CORS
 * with `Authorization` and `DPoP` allowed, `WWW-Authenticate` and `DPoP-Nonce` exposed.
 */
export function createDemoApiHandler(options: {
  issuer: string;
  jwksUri: string;
  allowedOrigins: string[];
  /** Seconds of leeway on `exp`; default 0 — the API and the provider share one clock. */
  clockTolerance?: number;
  /** The API's own URL (origin), for the proofs' `htu`; default: from the Host header. */
  apiUrl?: string;
  requireDpopNonce?: boolean;
  logger?: Logger;
}): (req: IncomingMessage, res: ServerResponse) => void {
  const { issuer, allowedOrigins, logger } = options;
  const dpop = createDpopChecker({ requireNonce: options.requireDpopNonce ?? false });
  const jwks = createRemoteJWKSet(new URL(options.jwksUri), { cooldownDuration: 1_000 });
  const allowed = new Set(allowedOrigins);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    res.setHeader('Cache-Control', 'no-store');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
    }

    const path = new URL(req.url ?? '/', 'http://localhost').pathname;

    if (req.method === 'OPTIONS') {
      if (!origin || !allowed.has(origin)) {
        res.writeHead(403).end();
        return;
      }
      res.setHeader('Access-Control-Allow-Methods', 'GET, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, DPoP');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }

    // Two APIs on one origin: `/me`, and the file store's `/files/me`, each accepting only tokens for its own audience.
    const audience = path === `${DEMO_FILES_PATH}me` ? DEMO_FILES_RESOURCE : path === '/me' || path === DEMO_STEP_UP_PATH ? DEMO_AUDIENCE : undefined;
    if (audience === undefined) {
      json(res, 404, { error: 'not_found', error_description: `No such endpoint. Try GET /me, GET ${DEMO_STEP_UP_PATH} or GET ${DEMO_FILES_PATH}me.` });
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET, OPTIONS');
      json(res, 405, { error: 'method_not_allowed', error_description: 'Use GET.' });
      return;
    }

    const credentials = presentedToken(req.headers.authorization);
    const token = credentials?.token;
    if (!token) {
      res.setHeader('WWW-Authenticate', `Bearer realm="${REALM}", DPoP realm="${REALM}", algs="ES256 EdDSA"`);
      json(res, 401, { error: 'unauthorized', error_description: 'An access token is required.' });
      return;
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        audience,
        algorithms: ['RS256'],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockTolerance ?? 0,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || isNetworkError(error)) {
        logger?.warn('demo api: the provider\'s JWKS is unreachable', { error: String(error) });
        json(res, 503, { error: 'temporarily_unavailable', error_description: 'The API cannot reach the identity provider to check tokens.' });
        return;
      }
      const description = describeRejection(error);
      logger?.info('demo api: rejected an access token', { reason: description });
      res.setHeader('WWW-Authenticate', `${credentials.scheme} error="invalid_token", error_description="${description}"`);
      json(res, 401, { error: 'invalid_token', error_description: description });
      return;
    }

    const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof jkt === 'string' || credentials.scheme === 'DPoP') {
      const refusal = await checkBinding(req, path, token, typeof jkt === 'string' ? jkt : undefined, credentials.scheme);
      if (refusal) {
        logger?.info('demo api: refused a DPoP request', { reason: refusal.message });
        if (refusal.error === 'use_dpop_nonce') res.setHeader('DPoP-Nonce', dpop.currentNonce());
        res.setHeader('WWW-Authenticate', `DPoP error="${refusal.error}", error_description="${refusal.message}", algs="ES256 EdDSA"`);
        json(res, 401, { error: refusal.error, error_description: refusal.message });
        return;
      }
    }

    if (path === DEMO_STEP_UP_PATH) {
      // RFC 9470 §3: this route wants the two-step sign-in, done at most DEMO_STEP_UP_MAX_AGE seconds ago.
      const authTime = typeof payload.auth_time === 'number' ? payload.auth_time : 0;
      const recent = Date.now() / 1000 - authTime <= DEMO_STEP_UP_MAX_AGE;
      if (payload.acr !== DEMO_ACR_TWO_STEP || !recent) {
        const description = payload.acr !== DEMO_ACR_TWO_STEP ? 'This action needs the two-step sign-in (password and one-time code)' : 'This action needs a sign-in within the last 10 minutes';
        logger?.info('demo api: asked for a stronger sign-in', { acr: String(payload.acr), recent });
        res.setHeader('WWW-Authenticate', `${credentials.scheme} error="insufficient_user_authentication", error_description="${description}", acr_values="${DEMO_ACR_TWO_STEP}", max_age=${DEMO_STEP_UP_MAX_AGE}`);
        json(res, 401, { error: 'insufficient_user_authentication', error_description: description });
        return;
      }
    }

    json(res, 200, { sub: payload.sub, claims: payload });
  }

  /** RFC 9449 §7.1: a bound token only with the DPoP scheme and a valid proof; the DPoP scheme only with a bound token. */
  async function checkBinding(req: IncomingMessage, path: string, token: string, jkt: string | undefined, scheme: 'Bearer' | 'DPoP'): Promise<DpopRejection | undefined> {
    if (jkt === undefined) return new DpopRejection('invalid_dpop_proof', 'The access token is not DPoP-bound; send it as Bearer');
    if (scheme !== 'DPoP') return new DpopRejection('invalid_dpop_proof', 'The access token is DPoP-bound; send it as Authorization: DPoP with a DPoP proof');
    const header = req.headers.dpop;
    const proofs = header === undefined ? [] : Array.isArray(header) ? header : header.split(',').map((proof) => proof.trim());
    const origin = options.apiUrl ? new URL(options.apiUrl).origin : `http://${req.headers.host ?? 'localhost'}`;
    try {
      await dpop.check({ method: req.method ?? 'GET', url: `${origin}${path}`, proofs, accessToken: token, jkt });
      return undefined;
    } catch (rejection) {
      if (rejection instanceof DpopRejection) return rejection;
      throw rejection;
    }
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger?.error('demo api: request failed', { error: String(error) });
      if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: 'The demo API failed.' });
      else res.end();
    });
  };
}

function presentedToken(header: string | undefined): { scheme: 'Bearer' | 'DPoP'; token: string } | undefined {
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  return { scheme: match[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] as string };
}

/** A short reason, safe to put in a quoted header value (no quotes or backslashes). */
function describeRejection(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The access token has an invalid ${error.claim} claim`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return 'The access token signature is invalid';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'The access token is signed with an unexpected algorithm';
  return 'The access token is malformed';
}

function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
