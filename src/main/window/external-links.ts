import { isLoopbackHost } from '../../core/index.ts';
import type { AuthSessionDeps, Logger } from '../../core/index.ts';

type Opener = AuthSessionDeps['opener'];

/**
 * True for the kind of URL the auth core hands to the system browser: the
 * provider's authorization and end-session pages, which it builds from the
 * discovered metadata. Those are https, or http on loopback for a local
 * provider such as the demo. Not pinned to the issuer's origin: providers may
 * serve their pages from another host (Amazon Cognito, custom domains). What is
 * refused is what makes `shell.openExternal` dangerous — file:, custom schemes,
 * plain http to another machine — and URLs carrying credentials.
 */
export function isProviderPageUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const target = new URL(url);
  if (target.username || target.password) return false;
  return target.protocol === 'https:' || (target.protocol === 'http:' && isLoopbackHost(target.hostname));
}

/**
 * The core's opener for the desktop app: hands provider pages to the system
 * browser (RFC 8252 §4.1 — never an embedded view) and refuses anything else,
 * so a confused caller cannot make the app open local files or other apps.
 */
export function createProviderOpener(openExternal: (url: string) => Promise<void>): Opener {
  return async (url: string) => {
    if (!isProviderPageUrl(url)) throw new Error('Refused to open a sign-in page that is neither https nor on this machine.');
    await openExternal(url);
  };
}

/**
 * True when `url` is one of the app's own links: an https page at or below a
 * URL on the allow-list (same origin, path under it). The renderer shows only
 * those; anything else it asks to open — an injected or attacker-supplied
 * link — is not the app's to hand to the system browser.
 */
export function isAllowedExternalLink(url: string, allowList: readonly string[]): boolean {
  if (!URL.canParse(url)) return false;
  const target = new URL(url);
  if (target.protocol !== 'https:' || target.username || target.password) return false;
  return allowList.some((entry) => {
    const allowed = new URL(entry);
    const base = allowed.pathname.endsWith('/') ? allowed.pathname : `${allowed.pathname}/`;
    return target.origin === allowed.origin && (target.pathname === allowed.pathname || target.pathname.startsWith(base));
  });
}

/**
 * What the window's links (`target=_blank`, `window.open`) go through: an
 * allow-listed link opens in the system browser, anything else is refused and
 * logged (by origin only: a refused URL may carry something private).
 */
export function createExternalLinkOpener(deps: { allowList: () => readonly string[]; openExternal: (url: string) => Promise<void>; logger: Pick<Logger, 'warn'> }): (url: string) => void {
  return (url) => {
    if (!isAllowedExternalLink(url, deps.allowList())) {
      deps.logger.warn('refused to open a link that is not on the app’s allow-list', { origin: URL.canParse(url) ? new URL(url).origin : 'not a URL' });
      return;
    }
    deps.openExternal(url).catch((error: unknown) => deps.logger.warn('the system browser did not open a link', { error: String(error) }));
  };
}
