import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outcomePage, refusalPage, type CallbackPage, type SignInOutcome } from './callback-pages.ts';
import type { RedirectHost } from '../config/provider-settings.ts';
import { AuthError, signInDenied } from '../errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { backgroundTimers, delay, realTimers, type Timers } from '../timers.ts';

/** Request line plus headers above this are refused (431/414); a real callback is far smaller. */
export const MAX_REQUEST_BYTES = 8 * 1024;
export const DEFAULT_SIGN_IN_TIMEOUT_MS = 300_000;

declare const validated: unique symbol;
/**
 * An authorization response whose `state` matched the pending sign-in. Only
 * this module can make one, and the code exchange takes nothing else, so the
 * state check cannot be skipped.
 */
export interface ValidatedCallback {
  readonly [validated]: true;
}
const callbackUrls = new WeakMap<ValidatedCallback, URL>();

/** The full callback URL (`redirect_uri` plus `code`, `state`, `iss`…) of a validated callback. */
export function callbackUrlOf(callback: ValidatedCallback): URL {
  const url = callbackUrls.get(callback);
  if (!url) throw new AuthError('state_mismatch', 'The authorization response was not validated by the loopback listener.');
  return new URL(url);
}


/** The redirect URI for a loopback port, exactly as registered and sent (RFC 8252 §7.3: the IP literal unless the provider accepts only `localhost`). */
export function redirectUriFor(port: number, host: RedirectHost = '127.0.0.1'): string {
  return `http://${host}:${port}/callback`;
}

export interface LoopbackServerOptions {
  /** 0 for an ephemeral port, or the fixed port registered at the provider. */
  port: number;
  /**
   * The name in the redirect URI (default 127.0.0.1). With `localhost` the
   * listener binds [::1] on the same port too, when this machine has IPv6: a
   * browser may resolve `localhost` to either, and no other program may hold
   * the one Latchkey left free (RFC 8252 §8.3).
   */
  redirectHost?: RedirectHost;
  /** The `state` sent with the authorization request. */
  expectedState: string;
  /** How long to wait for the browser to come back (default 5 minutes). */
  timeoutMs?: number;
  /** Aborting cancels the sign-in (`sign_in_cancelled`). */
  signal?: AbortSignal;
  /** The setting that chose a fixed port, named in the busy-port error. */
  portSetting?: string;
  /** How long `close()` waits for the browser to fetch the result page after the redirect. */
  closeGraceMs?: number;
  /**
   * The issuer an error response must name in `iss` (RFC 9207), and whether it
   * must be present (the provider advertises `authorization_response_iss_parameter_supported`).
   * Successful responses are checked in the code exchange.
   */
  expectedIssuer?: { issuer: string; required: boolean };
  logger?: Logger;
  /** The sign-in timeout runs on these (default: the process's). */
  timers?: Timers;
}

export interface LoopbackServer {
  readonly port: number;
  /** `http://127.0.0.1:{port}/callback`, exactly as sent in the authorization request. */
  readonly redirectUri: string;
  /**
   * The first callback carrying the pending `state`. Rejects with `sign_in_denied`
   * when that callback is the provider's error, `sign_in_timeout` or
   * `sign_in_cancelled` when the time runs out or the signal aborts, and
   * `sign_in_cancelled` when the listener is closed first. Forged or malformed
   * requests never settle it.
   */
  waitForCallback(): Promise<ValidatedCallback>;
  /** Tells the waiting browser tab how the sign-in ended; the first outcome wins. */
  complete(outcome: SignInOutcome): void;
  /** Frees the port; lets the browser fetch its result page first (briefly). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the one-shot loopback listener of a native-app sign-in (RFC 8252
 * §7.3): bound to 127.0.0.1 only, accepting only `GET /callback` with the
 * pending `state` and `Host: 127.0.0.1:{port}` (DNS-rebinding defence), and
 * answering it with a 303 to a clean result page so the code leaves the
 * address bar. Everything else gets a 4xx and leaves the sign-in pending.
 */
export async function startLoopbackServer(options: LoopbackServerOptions): Promise<LoopbackServer> {
  const { expectedState, logger } = options;
  const expectedStateBytes = Buffer.from(expectedState);
  const resultToken = randomBytes(16).toString('base64url');
  const closeGraceMs = options.closeGraceMs ?? 2_000;
  const timers = options.timers ?? realTimers;

  let phase: 'waiting' | 'redirected' | 'closed' = 'waiting';
  let outcome: SignInOutcome | undefined;
  let resultServed = false;
  const heldResults: ServerResponse[] = [];
  let onResultServed: () => void = () => {};
  const resultServedPromise = new Promise<void>((resolve) => (onResultServed = resolve));

  let settleCallback!: { resolve: (callback: ValidatedCallback) => void; reject: (error: AuthError) => void };
  const callbackPromise = new Promise<ValidatedCallback>((resolve, reject) => (settleCallback = { resolve, reject }));
  callbackPromise.catch(() => {});

  const server = createServer({ maxHeaderSize: MAX_REQUEST_BYTES, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => handle(req, res));
  const port = await listen(server, options.port, options.portSetting ?? 'AUTH_REDIRECT_PORT');
  const redirectHost = options.redirectHost ?? '127.0.0.1';
  const host = `${redirectHost}:${port}`;
  const redirectUri = redirectUriFor(port, redirectHost);
  const ipv6 = redirectHost === 'localhost' ? await listenIpv6Too(createServer({ maxHeaderSize: MAX_REQUEST_BYTES, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => handle(req, res)), port, server) : undefined;

  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, reason: string) => refuseRequest(logger, req, res, status, reason);

  function serveResult(res: ServerResponse): void {
    send(res, outcomePage(outcome));
    resultServed = true;
    onResultServed();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const screened = screenRequest(req, host);
    if ('refusal' in screened) {
      if (screened.refusal.status === 405) res.setHeader('Allow', 'GET');
      return refuse(req, res, screened.refusal.status, screened.refusal.reason);
    }
    const { url } = screened;
    if (url.pathname === '/callback') return handleCallback(req, res, url);
    if (url.pathname === '/done' && phase !== 'waiting' && !resultServed && url.searchParams.get('r') === resultToken) {
      if (outcome) return serveResult(res);
      heldResults.push(res);
      return;
    }
    return refuse(req, res, 404, 'Not found.');
  }

  function handleCallback(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (phase !== 'waiting') return refuse(req, res, 409, 'This sign-in callback was already received.');
    const states = url.searchParams.getAll('state');
    if (states.length !== 1) return refuse(req, res, 400, 'The callback must carry exactly one state parameter.');
    const stateBytes = Buffer.from(states[0] as string);
    if (stateBytes.length !== expectedStateBytes.length || !timingSafeEqual(stateBytes, expectedStateBytes)) {
      return refuse(req, res, 400, 'The state does not match the pending sign-in.');
    }

    phase = 'redirected';
    const error = url.searchParams.get('error');
    if (error !== null) {
      const description = url.searchParams.get('error_description');
      const denied = issuerMismatch(options.expectedIssuer, url.searchParams.getAll('iss'))
        ? new AuthError('provider_error', 'The authorization response did not come from the configured issuer (RFC 9207), so it was refused. Sign in again; if it persists, check AUTH_ISSUER.')
        : signInDenied(error, description);
      logger?.info('provider returned an error to the callback', { error, code: denied.code });
      complete({ ok: false, error: denied });
      settleCallback.reject(denied);
    } else {
      const callback = Object.freeze({}) as ValidatedCallback;
      callbackUrls.set(callback, new URL(redirectUri + url.search));
      settleCallback.resolve(callback);
    }
    res.writeHead(303, { ...refusalPage(303, '').headers, Location: `/done?r=${resultToken}` });
    res.end();
  }

  function complete(result: SignInOutcome): void {
    if (outcome) return;
    outcome = result;
    for (const res of heldResults.splice(0)) serveResult(res);
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      settleCallback.reject(new AuthError('sign_in_cancelled', 'The sign-in was stopped before the browser came back.'));
      if (phase === 'redirected' && !resultServed) {
        await Promise.race([resultServedPromise, delay(backgroundTimers, closeGraceMs)]);
      }
      phase = 'closed';
      for (const res of heldResults.splice(0)) serveResult(res);
      await Promise.all(
        [server, ipv6].map(
          (listener) =>
            listener &&
            new Promise<void>((resolve) => {
              listener.close(() => resolve());
              listener.closeAllConnections();
            }),
        ),
      );
    })();
    return closing;
  }

  endOnTimeoutOrAbort({ timers, timeoutMs: options.timeoutMs ?? DEFAULT_SIGN_IN_TIMEOUT_MS, signal: options.signal, until: callbackPromise }, (error) => {
    if (phase !== 'waiting') return;
    settleCallback.reject(error);
    complete({ ok: false, error });
    void close();
  });

  return {
    port,
    redirectUri,
    waitForCallback: () => callbackPromise,
    complete,
    close,
  };
}

/** [::1] on the port 127.0.0.1 got; none when this machine has no IPv6 loopback. Busy there: the IPv4 listener is closed and the port reported busy. */
async function listenIpv6Too(server: ReturnType<typeof createServer>, port: number, ipv4: ReturnType<typeof createServer>): Promise<ReturnType<typeof createServer> | undefined> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '::1', exclusive: true, ipv6Only: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return undefined;
    await new Promise((resolve) => ipv4.close(resolve));
    throw new AuthError('port_in_use', `The sign-in callback port [::1]:${port} is already in use by another program, and a browser may send localhost there. Close that program, or change AUTH_REDIRECT_PORT.`, { cause: error });
  }
}

/** Ends the sign-in with `sign_in_timeout` after `timeoutMs`, or `sign_in_cancelled` when `signal` aborts — unless `until` settles first. */
function endOnTimeoutOrAbort(deps: { timers: Timers; timeoutMs: number; signal: AbortSignal | undefined; until: Promise<unknown> }, end: (error: AuthError) => void): void {
  const { timers, timeoutMs, signal } = deps;
  const timer = timers.setTimeout(
    () => end(new AuthError('sign_in_timeout', `The sign-in was not completed within ${Math.round(timeoutMs / 1000)} seconds. Sign in again when you are ready.`)),
    timeoutMs,
  );
  const onAbort = () => end(new AuthError('sign_in_cancelled', 'The sign-in was cancelled.'));
  signal?.addEventListener('abort', onAbort, { once: true });
  deps.until
    .finally(() => {
      timers.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    })
    .catch(() => {});
  if (signal?.aborted) onAbort();
}

function send(res: ServerResponse, page: CallbackPage): void {
  res.writeHead(page.status, page.headers);
  res.end(page.body);
}

function refuseRequest(logger: Logger | undefined, req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  // A browser asks for /favicon.ico and the like; only the suspicious refusals are worth a warning.
  const level = status === 404 ? 'debug' : 'warn';
  logger?.[level]('loopback listener refused a request', { status, reason, method: req.method, path: (req.url ?? '').split('?')[0]?.slice(0, 100) });
  send(res, refusalPage(status, reason));
}

/** The request's URL when it is a GET of an origin-form target for this listener's own `Host`; else why it is refused. */
function screenRequest(req: IncomingMessage, host: string): { url: URL } | { refusal: { status: number; reason: string } } {
  const target = req.url ?? '';
  if (target.length > MAX_REQUEST_BYTES) return { refusal: { status: 414, reason: 'Request target too long.' } };
  if (req.headers.host?.toLowerCase() !== host) return { refusal: { status: 421, reason: 'This listener only answers requests for ' + host + '.' } };
  if (req.method !== 'GET') return { refusal: { status: 405, reason: 'Only GET is accepted.' } };
  // Only origin-form targets: `//host/…` or `http://…` would name another authority, and a
  // malformed one (any web page can send `//a:99999/`) would make `new URL` throw out of the listener.
  if (!target.startsWith('/') || target.startsWith('//') || !URL.canParse(target, `http://${host}`)) return { refusal: { status: 400, reason: 'Malformed request target.' } };
  return { url: new URL(target, `http://${host}`) };
}

/** RFC 9207: the authorization response's `iss` must be the configured issuer (required when the provider says it sends one). */
function issuerMismatch(expected: LoopbackServerOptions['expectedIssuer'], issuers: string[]): boolean {
  if (!expected) return false;
  if (issuers.length === 0) return expected.required;
  return issuers.length !== 1 || issuers[0] !== expected.issuer;
}

function listen(server: ReturnType<typeof createServer>, port: number, portSetting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
        const why = error.code === 'EADDRINUSE' ? 'is already in use by another program' : 'may not be used by this user';
        reject(
          new AuthError(
            'port_in_use',
            `The sign-in callback port 127.0.0.1:${port} ${why}, so the browser could not return to Latchkey. ` +
              `Close the program using it, or change ${portSetting} (0 picks a free port; a fixed port must match the callback URL registered at your provider).`,
            { cause: error },
          ),
        );
      } else {
        reject(error);
      }
    };
    server.once('error', onError);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
