import { isLoopbackHost } from '../core/index.ts';
import type { AuthSessionDeps } from '../core/index.ts';

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

/** Links the page asks to open (`target=_blank`, `window.open`) go to the system browser only when they are https. */
export function isSafeExternalLink(url: string): boolean {
  return URL.canParse(url) && new URL(url).protocol === 'https:';
}
