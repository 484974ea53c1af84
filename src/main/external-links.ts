import type { AuthSessionDeps } from './auth/index.ts';

type Opener = AuthSessionDeps['opener'];

/**
 * True when `url` is on the provider's own origin: the only pages the app ever
 * sends to the system browser on its own (authorization, end-session).
 */
export function isProviderUrl(url: string, issuer: string): boolean {
  if (!URL.canParse(url) || !URL.canParse(issuer)) return false;
  const target = new URL(url);
  return (target.protocol === 'https:' || target.protocol === 'http:') && target.origin === new URL(issuer).origin;
}

/**
 * The core's opener for the desktop app: hands provider URLs to the system
 * browser (RFC 8252 §4.1 — never an embedded view) and refuses anything else,
 * so a confused or compromised caller cannot make the app open arbitrary URLs.
 */
export function createProviderOpener(issuer: string, openExternal: (url: string) => Promise<void>): Opener {
  return async (url: string) => {
    if (!isProviderUrl(url, issuer)) {
      throw new Error(`Refused to open a sign-in page outside the provider (${new URL(issuer).origin}).`);
    }
    await openExternal(url);
  };
}

/** Links the page asks to open (`target=_blank`, `window.open`) go to the system browser only when they are https. */
export function isSafeExternalLink(url: string): boolean {
  return URL.canParse(url) && new URL(url).protocol === 'https:';
}
