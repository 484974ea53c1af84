// The mechanics shared by the stand-ins of commercial providers (test/providers/standins/*.ts):
// an HTTP server on 127.0.0.1 with an authorization endpoint (a login form a real Chromium fills
// in: input[name=login], input[name=password], button[type=submit]), a token endpoint (code with
// PKCE S256, refresh, and the device grant of RFC 8628 where a provider offers it), ID tokens
// signed with jose, a JWKS, a user endpoint and revocation. What differs between providers — which
// scope brings a refresh token, how the client authenticates, how redirect URIs are matched, what a
// dead refresh token gets, rotation, logout, the answers' format — is each stand-in's own `Habits`,
// written from that provider's documentation (linked in its header). Nothing here knows Latchkey.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface StandinUser {
  login: string;
  password: string;
  sub: string;
  name: string;
  email: string;
  /** Entra: the tenant the account belongs to. */
  tenant?: string;
}

/** The user every stand-in journey signs in as, unless it needs its own. */
export const ALICE: StandinUser = { login: 'alice', password: 'wonderland', sub: '1001', name: 'Alice Liddell', email: 'alice@example.com' };
/** The second user: each journey signs in both as two accounts (issue 28). */
export const BOB: StandinUser = { login: 'bob', password: 'builder', sub: '1002', name: 'Bob Builder', email: 'bob@example.com' };

/** An answer the token endpoint gives: status and JSON body. */
export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

export interface Habits {
  clientId: string;
  /** The secret the provider issued; undefined: a public client. */
  clientSecret?: string;
  /** How the client may authenticate at the token endpoint when it has a secret. */
  secretMethods?: Array<'client_secret_post' | 'client_secret_basic'>;
  /** The path of the issuer under the server's origin ('' → the origin itself, with or without a trailing slash). */
  issuerPath: string;
  /** The issuer written into the ID token for this user (Entra: the user's tenant); default the issuer. */
  issuerOf?(user: StandinUser, issuer: string): string;
  /** The discovery document, or none (GitHub). Paths are joined to the origin. */
  discovery?(origin: string, issuer: string): Record<string, unknown>;
  paths: { authorize: string; token: string; user?: string; revoke?: string; jwks?: string; logout?: string; deviceCode?: string };
  /**
   * The device authorization grant (RFC 8628), when `paths.deviceCode` is set: what the device
   * authorization answer says, and the token endpoint's answers to a poll before the user approved
   * (`pending`), after the code expired (`expired`) and for a code it never issued (`unknownCode`).
   */
  deviceFlow?: { verificationUri: string; expiresIn: number; interval: number; pending: Answer; expired: Answer; unknownCode: Answer };
  /** The token endpoint's answer to a grant type it does not support; default HTTP 400 `unsupported_grant_type`. */
  unsupportedGrant?: Answer;
  /** The token and device endpoints answer application/x-www-form-urlencoded unless the request accepts JSON (GitHub). */
  formUnlessJsonAccepted?: boolean;
  /** Whether `redirectUri` is one the client registered (exact, any loopback port, …). */
  redirectAccepted(redirectUri: string): boolean;
  /** An error for the authorization request's scope or parameters (redirected to the client), if any. */
  authorizationError?(query: URLSearchParams): { error: string; error_description: string } | undefined;
  /** Whether this sign-in gets a refresh token. */
  issuesRefreshToken(query: URLSearchParams): boolean;
  /** Whether the ID token is issued (the `openid` scope); none for GitHub. */
  idToken(scope: string): boolean;
  /** Extra ID token claims (Entra's `tid`). */
  idTokenClaims?(user: StandinUser): Record<string, unknown>;
  /** The answer to a refresh request before the token is looked at (Entra: `scope` missing), if any. */
  refreshRequestError?(body: URLSearchParams): Answer | undefined;
  /** The answer to an unknown, revoked or spent refresh token, as the provider documents it. */
  deadRefreshToken: Answer;
  /** The answer to a wrong or missing client secret. */
  badClient: Answer;
  /** The answer to an unknown or spent authorization code. */
  badCode: Answer;
  /** Rotation: a new refresh token each time, the old one then dead ('always') or still valid ('keep-old', Entra); or none. */
  rotation: 'always' | 'keep-old' | 'never';
  /** The `token_type` as the provider writes it (GitHub: `bearer`). */
  tokenType?: string;
  /** Access token lifetime; undefined: long-lived, no `expires_in` (a GitHub OAuth App). */
  accessTokenSeconds?: number;
  /** Refresh token lifetime, announced as `refresh_token_expires_in` (GitHub); undefined: not announced. */
  refreshTokenSeconds?: number;
  /** The user endpoint's body for this user (UserInfo or GitHub's /user). */
  userBody?(user: StandinUser): Record<string, unknown>;
  /** The user endpoint's answer to a missing, unknown or expired access token; default 401 {"message":"Bad credentials"}. */
  badAccessToken?: Answer;
  /** How revocation is asked: RFC 7009 (POST form `token`) or GitHub's DELETE with Basic and a JSON `access_token`. */
  revocation?: 'rfc7009' | 'github';
  /** The authorization response carries `iss` (RFC 9207), as Keycloak's does. */
  issuerInAuthorizationResponse?: boolean;
  /** RFC 7009 revocation without client authentication (Google's /revoke takes the token alone). */
  revocationWithoutClient?: boolean;
  /**
   * A resource of the provider's own that may ask for more than a valid token (Entra's claims challenge): at `path`,
   * `challenge` sees the `claims` the sign-in asked for (the authorization request's parameter) and answers the
   * `WWW-Authenticate` value of a 401, or undefined to serve the user's body.
   */
  protectedResource?: { path: string; challenge(claims: string | undefined): string | undefined };
}

interface Grant {
  user: StandinUser;
  scope: string;
  refresh: boolean;
  nonce?: string;
  /** The authorization request's `claims` (OpenID Connect Core §5.5): its tokens, refreshed ones too, carry them. */
  claims?: string;
}

/** One request as the stand-in received it, for request-shape and timing checks. */
export interface StandinRequest {
  method: string;
  path: string;
  accept: string | undefined;
  /** The body as a form (empty for a GET). */
  form: URLSearchParams;
  /** When it arrived, on this process's monotonic clock (`performance.now()`). */
  at: number;
}

export interface Standin {
  origin: string;
  issuer: string;
  users: StandinUser[];
  /** Whether `token` is a live access token (the user endpoint answers 200 to it). */
  accessTokenWorks(token: string): Promise<boolean>;
  /** True once a refresh token was presented again after it was rotated out. */
  reuseSeen(): boolean;
  /** The user revokes the app's access at the provider: every refresh token dies (and every access token, with `accessTokensToo`). */
  endAllSessions(options?: { accessTokensToo?: boolean }): void;
  /** Fault injection: sign ID tokens with a key the JWKS does not publish (a forged token). */
  forgeIdTokens(on: boolean): void;
  /** What the token endpoint received, newest last (for request-shape checks). */
  tokenRequests: Array<{ body: URLSearchParams; authorization?: string }>;
  /** What the token endpoint answered with HTTP 200 and tokens, newest last. */
  tokenAnswers: Array<Record<string, unknown>>;
  /** Every request the stand-in received, newest last. */
  requests: StandinRequest[];
  /** The user enters `userCode` at the verification page and approves (as `login`, default the first user): the next poll gets tokens. Throws for a code the stand-in never issued. */
  approveDeviceCode(userCode: string, login?: string): void;
  /** The authorization requests' query strings, newest last. */
  authorizationRequests: URLSearchParams[];
  revocations: number;
  /** How many requests the user endpoint answered. */
  userRequests: number;
  stop(): Promise<void>;
}

/** Starts a stand-in with these habits and users on 127.0.0.1 (a free port unless `port` is given). */
export async function startStandin(habits: Habits, users: StandinUser[], port = 0): Promise<Standin> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'standin-1', alg: 'RS256', use: 'sig' };
  const forgeryKey = (await generateKeyPair('RS256')).privateKey;
  let forging = false;
  const pending = new Map<string, { query: URLSearchParams }>();
  const codes = new Map<string, Grant & { redirectUri: string; challenge: string }>();
  const refreshTokens = new Map<string, Grant & { alive: boolean; revoked?: boolean }>();
  const accessTokens = new Map<string, { user: StandinUser; expiresAt: number; claims?: string }>();
  const tokenRequests: Standin['tokenRequests'] = [];
  const tokenAnswers: Standin['tokenAnswers'] = [];
  const requests: StandinRequest[] = [];
  const authorizationRequests: URLSearchParams[] = [];
  const deviceCodes = new Map<string, { userCode: string; scope: string; refresh: boolean; expiresAt: number; approvedBy?: StandinUser }>();
  let reuse = false;
  let revocations = 0;
  let userRequests = 0;
  let origin = '';
  let issuer = '';

  const random = () => randomBytes(24).toString('base64url');
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json', 'cache-control': 'no-store', ...headers }).end(text);
  };
  const answer = (res: ServerResponse, { status, json }: Answer) => send(res, status, json);
  // The token and device endpoints' answers, in the format the request accepts where the provider cares.
  const tokenAnswer = (req: IncomingMessage, res: ServerResponse, { status, json }: Answer) => {
    if (status === 200 && 'access_token' in json) tokenAnswers.push(json);
    if (!habits.formUnlessJsonAccepted || req.headers.accept?.includes('application/json')) return send(res, status, json);
    const form = new URLSearchParams(Object.entries(json).map(([key, value]): [string, string] => [key, String(value)]));
    res.writeHead(status, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'cache-control': 'no-store' }).end(form.toString());
  };

  const issueTokens = async (grant: Grant): Promise<Record<string, unknown>> => {
    const accessToken = random();
    const lifetime = habits.accessTokenSeconds;
    accessTokens.set(accessToken, { user: grant.user, expiresAt: lifetime === undefined ? Infinity : Date.now() + lifetime * 1000, ...(grant.claims ? { claims: grant.claims } : {}) });
    const body: Record<string, unknown> = { access_token: accessToken, token_type: habits.tokenType ?? 'Bearer', scope: grant.scope, ...(lifetime === undefined ? {} : { expires_in: lifetime }) };
    if (habits.idToken(grant.scope)) {
      body.id_token = await new SignJWT({ name: grant.user.name, email: grant.user.email, ...(grant.nonce ? { nonce: grant.nonce } : {}), ...habits.idTokenClaims?.(grant.user) })
        .setProtectedHeader({ alg: 'RS256', kid: 'standin-1' })
        .setIssuer(habits.issuerOf?.(grant.user, issuer) ?? issuer)
        .setAudience(habits.clientId)
        .setSubject(grant.user.sub)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(forging ? forgeryKey : privateKey);
    }
    return body;
  };

  const clientAuthenticated = (req: IncomingMessage, body: URLSearchParams): boolean => {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let id = body.get('client_id');
    let secret = body.get('client_secret');
    let method: 'client_secret_post' | 'client_secret_basic' | 'none' = secret === null ? 'none' : 'client_secret_post';
    if (basic) {
      const [user, password] = Buffer.from(basic, 'base64').toString('utf8').split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      [id, secret, method] = [user ?? null, password ?? null, 'client_secret_basic'];
    }
    if (id !== habits.clientId) return false;
    if (habits.clientSecret === undefined) return method === 'none';
    return method !== 'none' && (habits.secretMethods ?? ['client_secret_post', 'client_secret_basic']).includes(method) && secret === habits.clientSecret;
  };

  const token = async (req: IncomingMessage, res: ServerResponse, body: URLSearchParams) => {
    tokenRequests.push({ body, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const devicePollWithoutSecret = body.get('grant_type') === DEVICE_CODE_GRANT && body.get('client_id') === habits.clientId && !body.has('client_secret') && !req.headers.authorization;
    if (!devicePollWithoutSecret && !clientAuthenticated(req, body)) return tokenAnswer(req, res, habits.badClient);
    if (body.get('grant_type') === 'authorization_code') {
      const code = codes.get(body.get('code') ?? '');
      codes.delete(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!code || code.redirectUri !== body.get('redirect_uri') || !safeEqual(challenge, code.challenge)) return answer(res, habits.badCode);
      const tokens = await issueTokens(code);
      if (code.refresh) issueRefreshToken(tokens, code);
      return tokenAnswer(req, res, { status: 200, json: tokens });
    }
    if (body.get('grant_type') === DEVICE_CODE_GRANT && habits.deviceFlow) {
      const device = deviceCodes.get(body.get('device_code') ?? '');
      if (!device) return tokenAnswer(req, res, habits.deviceFlow.unknownCode);
      if (Date.now() >= device.expiresAt) return tokenAnswer(req, res, habits.deviceFlow.expired);
      if (!device.approvedBy) return tokenAnswer(req, res, habits.deviceFlow.pending);
      deviceCodes.delete(body.get('device_code') ?? '');
      const grant = { user: device.approvedBy, scope: device.scope, refresh: device.refresh };
      const tokens = await issueTokens(grant);
      if (grant.refresh) issueRefreshToken(tokens, grant);
      return tokenAnswer(req, res, { status: 200, json: tokens });
    }
    if (body.get('grant_type') === 'refresh_token') {
      const early = habits.refreshRequestError?.(body);
      if (early) return answer(res, early);
      const presented = body.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (!grant?.alive) {
        if (grant && !grant.revoked) reuse = true;
        return answer(res, habits.deadRefreshToken);
      }
      const tokens = await issueTokens(grant);
      if (habits.rotation !== 'never') {
        if (habits.rotation === 'always') grant.alive = false;
        issueRefreshToken(tokens, grant);
      }
      return tokenAnswer(req, res, { status: 200, json: tokens });
    }
    return tokenAnswer(req, res, habits.unsupportedGrant ?? { status: 400, json: { error: 'unsupported_grant_type' } });
  };

  const issueRefreshToken = (tokens: Record<string, unknown>, grant: Grant) => {
    tokens.refresh_token = random();
    if (habits.refreshTokenSeconds !== undefined) tokens.refresh_token_expires_in = habits.refreshTokenSeconds;
    refreshTokens.set(tokens.refresh_token as string, { ...grant, alive: true });
  };

  // RFC 8628 §3.1–3.2. The client authenticates as at the token endpoint, except that a client with a
  // secret may leave it out (GitHub's device flow asks for client_id alone).
  const deviceAuthorization = (req: IncomingMessage, res: ServerResponse, body: URLSearchParams) => {
    const flow = habits.deviceFlow!;
    const withoutSecret = body.get('client_id') === habits.clientId && !body.has('client_secret') && !req.headers.authorization;
    if (!withoutSecret && !clientAuthenticated(req, body)) return tokenAnswer(req, res, habits.badClient);
    const deviceCode = randomBytes(20).toString('hex');
    const userCode = [0, 1].map(() => Array.from({ length: 4 }, () => USER_CODE_LETTERS[randomInt(USER_CODE_LETTERS.length)]).join('')).join('-');
    deviceCodes.set(deviceCode, { userCode, scope: body.get('scope') ?? '', refresh: habits.issuesRefreshToken(body), expiresAt: Date.now() + flow.expiresIn * 1000 });
    return tokenAnswer(req, res, { status: 200, json: { device_code: deviceCode, user_code: userCode, verification_uri: flow.verificationUri, expires_in: flow.expiresIn, interval: flow.interval } });
  };

  const authorize = (res: ServerResponse, query: URLSearchParams) => {
    authorizationRequests.push(query);
    const redirectUri = query.get('redirect_uri') ?? '';
    if (query.get('client_id') !== habits.clientId || !habits.redirectAccepted(redirectUri)) {
      return send(res, 400, '<!doctype html><title>Error</title><p>The redirect URI or client is not registered for this application.</p>');
    }
    const toClient = (parameters: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
      const state = query.get('state');
      if (state) target.searchParams.set('state', state);
      if (habits.issuerInAuthorizationResponse) target.searchParams.set('iss', issuer);
      res.writeHead(302, { location: target.href }).end();
    };
    const refused = habits.authorizationError?.(query);
    if (refused) return toClient(refused);
    if (query.get('response_type') !== 'code' || query.get('code_challenge_method') !== 'S256' || !query.get('code_challenge')) {
      return toClient({ error: 'invalid_request', error_description: 'PKCE with S256 and response_type=code are required.' });
    }
    const id = random();
    pending.set(id, { query });
    send(res, 200, `<!doctype html><title>Sign in</title><form method="post" action="/standin/login"><input type="hidden" name="request" value="${id}"><label>Login <input name="login"></label><label>Password <input name="password" type="password"></label><button type="submit">Sign in</button></form>`);
  };

  const login = (res: ServerResponse, body: URLSearchParams) => {
    const request = pending.get(body.get('request') ?? '');
    const user = users.find((candidate) => candidate.login === body.get('login') && candidate.password === body.get('password'));
    if (!request || !user) return send(res, 200, '<!doctype html><title>Sign in</title><p role="alert">Wrong login or password.</p><form method="post"><input name="login"><input name="password" type="password"><button type="submit">Sign in</button></form>');
    pending.delete(body.get('request') ?? '');
    const { query } = request;
    const code = random();
    const nonce = query.get('nonce');
    const claims = query.get('claims');
    codes.set(code, { user, scope: query.get('scope') ?? '', refresh: habits.issuesRefreshToken(query), redirectUri: query.get('redirect_uri') ?? '', challenge: query.get('code_challenge') ?? '', ...(nonce ? { nonce } : {}), ...(claims ? { claims } : {}) });
    const target = new URL(query.get('redirect_uri') ?? '');
    target.searchParams.set('code', code);
    if (query.get('state')) target.searchParams.set('state', query.get('state') as string);
    if (habits.issuerInAuthorizationResponse) target.searchParams.set('iss', issuer);
    res.writeHead(302, { location: target.href }).end();
  };

  const bearerAccess = (req: IncomingMessage) => {
    const value = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? /^token (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const access = value ? accessTokens.get(value) : undefined;
    return access && access.expiresAt > Date.now() ? access : undefined;
  };
  const bearerUser = (req: IncomingMessage) => bearerAccess(req)?.user;

  const revoke = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    revocations += 1;
    if (habits.revocation === 'github') {
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = Buffer.from(basic ?? '', 'base64').toString('utf8').split(':');
      if (req.method !== 'DELETE' || id !== habits.clientId || secret !== habits.clientSecret) return send(res, 404, { message: 'Not Found' });
      const accessToken = (JSON.parse(raw || '{}') as { access_token?: string }).access_token ?? '';
      if (!accessTokens.delete(accessToken)) return send(res, 422, { message: 'Validation Failed' });
      return res.writeHead(204).end();
    }
    const body = new URLSearchParams(raw);
    if (!habits.revocationWithoutClient && !clientAuthenticated(req, body)) return answer(res, habits.badClient);
    const presented = body.get('token') ?? '';
    const grant = refreshTokens.get(presented);
    if (grant) Object.assign(grant, { alive: false, revoked: true });
    accessTokens.delete(presented);
    return res.writeHead(200).end();
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      const path = url.pathname;
      requests.push({ method: req.method ?? 'GET', path, accept: req.headers.accept, form: new URLSearchParams(req.method === 'GET' ? '' : raw), at: performance.now() });
      const route = async () => {
        if (habits.discovery && path === `${new URL(issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`) return send(res, 200, habits.discovery(origin, issuer));
        if (path === habits.paths.jwks) return send(res, 200, { keys: [jwk] });
        if (path === habits.paths.authorize && req.method === 'GET') return authorize(res, url.searchParams);
        if (path === '/standin/login' && req.method === 'POST') return login(res, new URLSearchParams(raw));
        if (path === habits.paths.token && req.method === 'POST') return token(req, res, new URLSearchParams(raw));
        if (habits.deviceFlow && path === habits.paths.deviceCode && req.method === 'POST') return deviceAuthorization(req, res, new URLSearchParams(raw));
        if (path === habits.paths.user && req.method === 'GET') {
          userRequests += 1;
          const user = bearerUser(req);
          return user && habits.userBody ? send(res, 200, habits.userBody(user)) : answer(res, habits.badAccessToken ?? { status: 401, json: { message: 'Bad credentials' } });
        }
        if (habits.paths.revoke && path === habits.paths.revoke.replace('{client_id}', habits.clientId)) return revoke(req, res, raw);
        if (habits.protectedResource && path === habits.protectedResource.path && req.method === 'GET') {
          const access = bearerAccess(req);
          if (!access) return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
          const challenge = habits.protectedResource.challenge(access.claims);
          if (challenge) return send(res, 401, { error: 'insufficient_claims' }, { 'www-authenticate': challenge });
          return send(res, 200, habits.userBody?.(access.user) ?? { sub: access.user.sub });
        }
        return send(res, 404, { error: 'not_found' });
      };
      route().catch((error: unknown) => send(res, 500, { error: 'server_error', error_description: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${origin}${habits.issuerPath}`;

  return {
    origin,
    issuer,
    users,
    tokenRequests,
    tokenAnswers,
    requests,
    authorizationRequests,
    get revocations() {
      return revocations;
    },
    get userRequests() {
      return userRequests;
    },
    accessTokenWorks: async (accessToken) => bearerUser({ headers: { authorization: `Bearer ${accessToken}` } } as IncomingMessage) !== undefined,
    reuseSeen: () => reuse,
    approveDeviceCode(userCode, login) {
      const device = [...deviceCodes.values()].find((candidate) => candidate.userCode === userCode);
      const user = login === undefined ? users[0] : users.find((candidate) => candidate.login === login);
      if (!device || !user) throw new Error(`the stand-in issued no device code ${userCode} (or has no user ${login})`);
      device.approvedBy = user;
    },
    forgeIdTokens(on) {
      forging = on;
    },
    endAllSessions(options = {}) {
      for (const grant of refreshTokens.values()) Object.assign(grant, { alive: false, revoked: true });
      if (options.accessTokensToo) accessTokens.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// RFC 8628 §6.1: a user code from 20 consonants, easy to read and type, in two groups of four.
const USER_CODE_LETTERS = 'BCDFGHJKLMNPQRSTVWXZ';

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True for `http://127.0.0.1:{any port}{path}` (RFC 8252 §7.3, as Google and Entra document it). */
export function loopbackAnyPort(redirectUri: string, path: string, host = '127.0.0.1'): boolean {
  if (!URL.canParse(redirectUri)) return false;
  const url = new URL(redirectUri);
  return url.protocol === 'http:' && url.hostname === host && url.pathname === path && !url.search;
}
