import { readFile, realpath } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { APP_ORIGIN } from '../../shared/constants.ts';

/** The custom scheme the app's pages are served from (`app://latchkey/index.html`). */
export const APP_SCHEME = new URL(APP_ORIGIN).protocol.slice(0, -1);
const APP_HOST = new URL(APP_ORIGIN).host;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Registered before `app.ready` (Electron requires it). `standard` gives the
 * scheme real origins and relative URL resolution, `secure` makes it a secure
 * context like https; `supportFetchAPI` lets module scripts load. No
 * `bypassCSP`: our own CSP header applies to every page.
 */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};

/** True for a URL on the app's own origin (`app://latchkey/…`). */
export function isAppUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const parsed = new URL(url);
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
}

/**
 * The Content-Security-Policy for every app page: scripts and styles only from
 * the app itself, network access only to the configured APIs (their origins,
 * nothing else), no framing, no `<base>`, no form posts. Images only from the
 * app itself and `data:` (the profile picture arrives so, fetched by main): a
 * page that got an access token cannot send it out as an image address.
 */
export function buildContentSecurityPolicy(apiBaseUrls: readonly string[]): string {
  const origins = [...new Set(apiBaseUrls.filter((url) => url && URL.canParse(url)).map((url) => new URL(url).origin))];
  const connect = origins.length > 0 ? origins.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Pictures come from main as data: URLs (auth:profile-picture): an image address could carry a token out.
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers sent with every app response (pages, scripts, errors). */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

/**
 * The `protocol.handle` handler for `app://latchkey/`: serves files under
 * `rootDir` only (the built renderer), GET/HEAD only, with the CSP on every
 * response. Anything outside the root — `..`, encoded separators, symlinks out —
 * is refused; unknown file types are refused rather than sniffed.
 */
export function createAppProtocolHandler(options: { rootDir: string; csp: string }): (request: Request) => Promise<Response> {
  const rootDir = resolve(options.rootDir);
  const headers = securityHeaders(options.csp);
  const refuse = (status: number) => new Response(null, { status, headers });

  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
    const file = resolveAppFile(rootDir, request.url);
    if (!file) return refuse(404);
    const type = MIME_TYPES[extname(file).toLowerCase()];
    if (!type) return refuse(404);
    try {
      // A symlink inside the root must not lead outside it.
      const real = await realpath(file);
      const realRoot = await realpath(rootDir);
      if (!isInside(realRoot, real)) return refuse(404);
      const body = request.method === 'HEAD' ? null : await readFile(real);
      return new Response(body, { status: 200, headers: { ...headers, 'content-type': type } });
    } catch {
      return refuse(404);
    }
  };
}

/** The file under `rootDir` an app URL names, or undefined when it names none (wrong host, traversal, bad encoding). */
export function resolveAppFile(rootDir: string, url: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  const { pathname } = new URL(url);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter(Boolean);
  if (segments.some((segment) => segment === '..' || segment === '.')) return undefined;
  const relative = segments.length === 0 ? 'index.html' : segments.join(sep);
  const file = resolve(join(rootDir, relative));
  return isInside(rootDir, file) ? file : undefined;
}

function isInside(rootDir: string, file: string): boolean {
  return file.startsWith(rootDir.endsWith(sep) ? rootDir : rootDir + sep);
}
