import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gunzipSync } from 'node:zlib';

/**
 * A real Glewlwyd (Debian package `glewlwyd`, sqlite backend) on 127.0.0.1,
 * configured through its admin REST API with one OpenID Connect plugin, one
 * user and one public client (code + PKCE S256, one-time refresh tokens).
 *
 * Glewlwyd 2.7.5 quirks a client must live with:
 * - discovery omits `refresh_token` from grant_types_supported and `none`
 *   from token_endpoint_auth_methods_supported, yet both work;
 * - /revoke and /introspect refuse a public client: HTTP 401, empty body;
 * - a spent, revoked or unknown refresh token gets HTTP 400 with an empty
 *   body and no content-type (openid-client: OAUTH_RESPONSE_IS_NOT_JSON);
 * - with one-time refresh tokens, redeeming a spent one disables every token
 *   of its chain (reuse detection), so the rightful client is signed out too;
 * - a refresh response has a new refresh token but no id_token;
 * - a replayed code gets HTTP 403 {"error":"invalid_code"} and revokes the
 *   tokens issued for it; ID tokens carry auth_time 0.
 */

export const GLEWLWYD_BIN = process.env.GLEWLWYD_BIN ?? '/usr/bin/glewlwyd';
const WEBAPP_DIR = process.env.GLEWLWYD_WEBAPP ?? '/usr/share/glewlwyd/webapp';
const INIT_SQL = process.env.GLEWLWYD_INIT_SQL ?? '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz';
const MODULES_DIR = '/usr/lib/glewlwyd';
const ADMIN = { username: 'admin', password: 'password' };
const PLUGIN_NAME = 'oidc';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface GlewlwydOptions {
  /** Default 60. */
  accessTokenTtlSeconds?: number;
  /** Default 3600. */
  refreshTokenTtlSeconds?: number;
  /** 'always' (default): each refresh returns a new refresh token and disables the one used. */
  refreshTokenOneUse?: 'always' | 'never';
  /** Default true: each use pushes the refresh token's expiry forward (Glewlwyd gives rotated one-time tokens a fixed expiry). */
  refreshTokenRolling?: boolean;
  /** Default true: the authorization request must carry an S256 code challenge. */
  pkceRequired?: boolean;
  /** Default false: sign-in with a code (RFC 8628 device authorization grant) for the plugin and the client. */
  deviceAuthorization?: boolean;
  /** Default 'latchkey'. */
  clientId?: string;
  /** Port of the client's registered redirect URI `http://127.0.0.1:PORT/callback`; default a free one. */
  redirectPort?: number;
  /** Default '/callback'. */
  redirectPath?: string;
  /** Default 'alice' / 'wonderland' / 'Alice Liddell' / 'alice@example.test'. */
  username?: string;
  password?: string;
  name?: string;
  email?: string;
  /** Glewlwyd's log level on its stdout, kept by logs(). Default 'INFO'. */
  logLevel?: 'ERROR' | 'WARNING' | 'INFO' | 'DEBUG';
}

/**
 * Glewlwyd's record of the client's refresh tokens (table gpo_refresh_token).
 * With one-time tokens each refresh disables the token used and issues a new
 * one carrying the same jti, so one sign-in (code exchange) is one chain whose
 * newest token is the only usable one. Redeeming a token that is no longer
 * enabled gets HTTP 400 and, with one-time tokens, disables every token of its
 * chain (Glewlwyd's reuse detection): the chain is left with none usable.
 */
export interface RefreshTokenStats {
  /** Refresh tokens issued to the client: one per code exchange plus one per successful one-time refresh. */
  issued: number;
  /** Of those, how many can still be redeemed (enabled and unexpired). */
  usable: number;
  /** One entry per sign-in (code exchange), oldest first. */
  chains: RefreshTokenChain[];
  /** How many chains are dead (see RefreshTokenChain.dead). */
  deadChains: number;
  /**
   * Glewlwyd's "Security - Token invalid" log warnings: it logs one per
   * refresh_token or delete_token grant it refuses because the token is
   * spent, revoked, expired or unknown. Only in the server's refreshTokenStats().
   */
  refusedRefreshes?: number;
}

export interface RefreshTokenChain {
  issued: number;
  usable: number;
  /**
   * The newest token is unexpired yet disabled: what reuse detection leaves
   * behind. Revoking that token (delete_token grant, admin or profile API)
   * leaves the same trace, so a test that does neither reads false as "no
   * reuse seen at the provider".
   */
  dead: boolean;
}

export interface GlewlwydServer {
  /** `http://127.0.0.1:PORT/api/oidc`; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** `http://127.0.0.1:PORT`; the login webapp is `${baseUrl}/login.html`. */
  baseUrl: string;
  clientId: string;
  redirectPort: number;
  redirectUri: string;
  username: string;
  password: string;
  name: string;
  email: string;
  /** The temp folder with the config, the sqlite database and the webapp copy; removed by stop(). */
  dataDir: string;
  dbPath: string;
  /** Everything Glewlwyd printed so far. */
  logs(): string;
  /** A request to the admin API (`/api/...`) as the default admin. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  refreshTokenStats(): RefreshTokenStats;
  /** Stops Glewlwyd (SIGTERM, then SIGKILL) and removes dataDir. */
  stop(): Promise<void>;
}

export async function startGlewlwyd(options: GlewlwydOptions = {}): Promise<GlewlwydServer> {
  if (!existsSync(GLEWLWYD_BIN)) throw new Error(`${GLEWLWYD_BIN} is missing: install the Debian package glewlwyd`);
  const [port, freeRedirectPort] = await twoFreePorts();
  const redirectPort = options.redirectPort ?? freeRedirectPort;
  const baseUrl = `http://127.0.0.1:${port}`;
  const issuer = `${baseUrl}/api/${PLUGIN_NAME}`;
  const clientId = options.clientId ?? 'latchkey';
  const redirectUri = `http://127.0.0.1:${redirectPort}${options.redirectPath ?? '/callback'}`;
  const user = {
    username: options.username ?? 'alice',
    password: options.password ?? 'wonderland',
    name: options.name ?? 'Alice Liddell',
    email: options.email ?? 'alice@example.test',
  };

  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-glewlwyd-'));
  const dbPath = join(dataDir, 'glewlwyd.sqlite3');
  const configPath = join(dataDir, 'glewlwyd.conf');
  const output: string[] = [];
  const logs = () => output.join('');
  let child: ChildProcess | undefined;
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };

  const stop = async () => {
    if (child) await killProcess(child);
    child = undefined;
    process.off('exit', killOnExit);
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const webappDir = await copyWebapp(join(dataDir, 'webapp'));
    initDatabase(dbPath);
    await writeFile(configPath, serverConfig({ port, baseUrl, dbPath, webappDir, logLevel: options.logLevel ?? 'INFO' }));

    process.on('exit', killOnExit);
    child = spawn(GLEWLWYD_BIN, [`--config-file=${configPath}`], { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
    await waitForServer(child, `${baseUrl}/config`, logs);

    const admin = await adminSession(baseUrl);
    await admin.create('/mod/plugin/', oidcPlugin(issuer, options));
    for (const scope of ['profile', 'email', 'offline_access']) {
      await admin.create('/scope/', { name: scope, display_name: scope, description: `OpenID Connect ${scope}`, password_required: true, password_max_age: 0, scheme: {} });
    }
    await admin.create('/user/', { ...user, enabled: true, scope: ['openid', 'profile', 'email', 'offline_access'] });
    await admin.create('/client/', {
      client_id: clientId,
      name: 'Latchkey',
      enabled: true,
      confidential: false,
      scope: [],
      redirect_uri: [redirectUri],
      authorization_type: ['code', 'refresh_token', ...(options.deviceAuthorization ? ['device_authorization'] : [])],
      token_endpoint_auth_method: ['none'],
    });

    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
    const metadata = (discovery.ok ? await discovery.json() : {}) as { issuer?: string };
    if (metadata.issuer !== issuer) throw new Error(`discovery answered ${discovery.status} with issuer ${String(metadata.issuer)}, expected ${issuer}`);

    const running = child;
    return {
      issuer,
      baseUrl,
      clientId,
      redirectPort,
      redirectUri,
      ...user,
      dataDir,
      dbPath,
      logs,
      admin: (path, init) => admin.fetch(path, init),
      refreshTokenStats: () => ({
        ...readRefreshTokenStats(dbPath, clientId),
        refusedRefreshes: logs().split('\n').filter((line) => line.includes('Security - Token invalid')).length,
      }),
      stop: async () => {
        if (child === running) await stop();
      },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const tail = logs().split('\n').slice(-30).join('\n');
    await stop();
    throw new Error(`Glewlwyd did not start: ${message}\n--- glewlwyd log (tail) ---\n${tail}`, { cause: error });
  }
}

/** Reads gpo_refresh_token for one client; see RefreshTokenStats. */
export function readRefreshTokenStats(dbPath: string, clientId: string): RefreshTokenStats {
  const db = new DatabaseSync(dbPath, { readOnly: true, timeout: 2_000 });
  try {
    const rows = db.prepare(`
      SELECT COUNT(*) AS issued,
             SUM(gpor_enabled = 1 AND gpor_expires_at > CAST(strftime('%s', 'now') AS INTEGER)) AS usable,
             (SELECT newest.gpor_enabled = 0 AND newest.gpor_expires_at > CAST(strftime('%s', 'now') AS INTEGER)
                FROM gpo_refresh_token AS newest
               WHERE newest.gpor_jti = token.gpor_jti AND newest.gpor_client_id = token.gpor_client_id
               ORDER BY newest.gpor_id DESC LIMIT 1) AS dead
        FROM gpo_refresh_token AS token
       WHERE gpor_client_id = ?
       GROUP BY gpor_jti
       ORDER BY MIN(gpor_id)`).all(clientId) as Array<{ issued: number; usable: number; dead: number }>;
    const chains = rows.map((row) => ({ issued: Number(row.issued), usable: Number(row.usable), dead: Number(row.dead) === 1 }));
    return {
      issued: chains.reduce((sum, chain) => sum + chain.issued, 0),
      usable: chains.reduce((sum, chain) => sum + chain.usable, 0),
      chains,
      deadChains: chains.filter((chain) => chain.dead).length,
    };
  } finally {
    db.close();
  }
}

function oidcPlugin(issuer: string, options: GlewlwydOptions) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'latchkey-test', alg: 'RS256', use: 'sig' };
  return {
    module: 'oidc',
    name: PLUGIN_NAME,
    display_name: 'OpenID Connect',
    enabled: true,
    parameters: {
      iss: issuer,
      'jwt-type': 'rsa',
      'jwt-key-size': '256',
      'jwks-private': JSON.stringify({ keys: [jwk] }),
      'default-kid': jwk.kid,
      'jwks-show': true,
      'access-token-duration': options.accessTokenTtlSeconds ?? 60,
      'refresh-token-duration': options.refreshTokenTtlSeconds ?? 3600,
      'code-duration': 600,
      'refresh-token-rolling': options.refreshTokenRolling ?? true,
      'refresh-token-one-use': options.refreshTokenOneUse ?? 'always',
      'client-refresh-token-one-use-parameter': 'refresh-token-one-use',
      'allow-non-oidc': false,
      'auth-type-code-enabled': true,
      'auth-type-code-revoke-replayed': true,
      'auth-type-token-enabled': false,
      'auth-type-id-token-enabled': true,
      'auth-type-none-enabled': false,
      'auth-type-password-enabled': false,
      'auth-type-client-enabled': false,
      'auth-type-device-enabled': options.deviceAuthorization ?? false,
      'device-authorization-expiration': 600,
      'device-authorization-interval': 5,
      'auth-type-refresh-enabled': true,
      'allowed-scope': ['openid', 'profile', 'email', 'offline_access'],
      'secret-type': 'public',
      'name-claim': 'on-demand',
      'name-claim-scope': ['profile'],
      'email-claim': 'on-demand',
      'email-claim-scope': ['email'],
      'scope-claim': 'no',
      'pkce-allowed': true,
      'pkce-method-plain-allowed': false,
      'pkce-required': options.pkceRequired ?? true,
      'introspection-revocation-allowed': true,
      'introspection-revocation-auth-scope': [],
      'introspection-revocation-allow-target-client': true,
      'session-management-allowed': true,
      'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
      'session-cookie-expiration': 2419200,
      'front-channel-logout-allowed': false,
      'back-channel-logout-allowed': false,
      'request-parameter-allow': false,
      'register-client-allowed': false,
    },
  };
}

function serverConfig(c: { port: number; baseUrl: string; dbPath: string; webappDir: string; logLevel: string }): string {
  const mime = [
    ['.html', 'text/html', 1], ['.js', 'application/javascript', 1], ['.css', 'text/css', 1], ['.json', 'application/json', 1],
    ['.png', 'image/png', 0], ['.ico', 'image/x-icon', 0], ['.svg', 'image/svg+xml', 1], ['.ttf', 'font/ttf', 0],
    ['.woff', 'font/woff', 0], ['.woff2', 'font/woff2', 0], ['.eot', 'application/vnd.ms-fontobject', 0], ['.map', 'application/octet-stream', 0],
  ] as const;
  return `port=${c.port}
bind_address="127.0.0.1"
external_url=${JSON.stringify(c.baseUrl)}
login_url="login.html"
api_prefix="api"
static_files_path=${JSON.stringify(`${c.webappDir}/`)}
log_mode="console"
log_level=${JSON.stringify(c.logLevel)}
cookie_secure=0
cookie_same_site="empty"
session_expiration=2419200
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
add_x_frame_option_header_deny=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES_DIR}/user"
client_module_path="${MODULES_DIR}/client"
user_auth_scheme_module_path="${MODULES_DIR}/scheme"
plugin_module_path="${MODULES_DIR}/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = ${JSON.stringify(c.dbPath)}; };
static_files_mime_types = (
${mime.map(([extension, type, compress]) => `  { extension = "${extension}"; mime_type = "${type}"; compress = ${compress}; }`).join(',\n')}
);
`;
}

/** Debian's webapp with its symlinks resolved and a real config.json (Debian's is a link to the folder /etc/glewlwyd/config-2.7.json). */
async function copyWebapp(target: string): Promise<string> {
  const configLink = join(WEBAPP_DIR, 'config.json');
  await cp(WEBAPP_DIR, target, { recursive: true, dereference: true, filter: (source) => source !== configLink });
  const configSource = (await stat(configLink)).isDirectory() ? join(configLink, 'config.json') : configLink;
  await writeFile(join(target, 'config.json'), await readFile(configSource));
  return target;
}

function initDatabase(dbPath: string): void {
  const db = new DatabaseSync(dbPath);
  try {
    db.exec(`BEGIN;\n${gunzipSync(readFileSync(INIT_SQL)).toString('utf8')}\nCOMMIT;`);
  } finally {
    db.close();
  }
}

interface AdminSession {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  create(path: string, body: unknown): Promise<void>;
}

async function adminSession(baseUrl: string): Promise<AdminSession> {
  const login = await fetch(`${baseUrl}/api/auth/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const cookie = login.headers.getSetCookie().map((header) => header.split(';')[0]).join('; ');
  if (!login.ok || !cookie) throw new Error(`admin login answered ${login.status}: ${await login.text()}`);
  const adminFetch = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', cookie);
    if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(`${baseUrl}/api${path}`, { ...init, headers });
  };
  return {
    fetch: adminFetch,
    async create(path, body) {
      const response = await adminFetch(path, { method: 'POST', body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST /api${path} answered ${response.status}: ${await response.text()}`);
    },
  };
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = createServer();
  const second = createServer();
  const listen = (server: Server) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  try {
    return [await listen(first), await listen(second)];
  } finally {
    await Promise.all([first, second].map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

async function waitForServer(child: ChildProcess, url: string, logs: () => string): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => { exited = `exited with ${signal ?? code}`; });
  child.once('error', (error) => { exited = error.message; });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`glewlwyd ${exited}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`glewlwyd did not answer ${url} within ${START_TIMEOUT_MS} ms (${logs().length} bytes of log)`);
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
