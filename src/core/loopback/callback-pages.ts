import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { AuthError } from '../errors.ts';
import { type AuthErrorCode } from '../../shared/errors.ts';

/** What the sign-in came to, as far as the browser tab is concerned. */
export type SignInOutcome = { ok: true } | { ok: false; error: unknown };

export interface CallbackPage {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

/**
 * Headers for every answer of the loopback listener: nothing may load, frame,
 * cache or refer onward from these pages (the callback URL carried a code).
 */
export function strictHeaders(styleNonce?: string): OutgoingHttpHeaders {
  const style = styleNonce ? `; style-src 'nonce-${styleNonce}'` : '';
  return {
    'Content-Security-Policy': `default-src 'none'${style}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** A short plain-text refusal for requests the listener does not accept. */
export function refusalPage(status: number, text: string): CallbackPage {
  return { status, headers: { ...strictHeaders(), 'Content-Type': 'text/plain; charset=utf-8' }, body: text + '\n' };
}

/** The page the browser shows once the sign-in is decided: success only after the code exchange succeeded. */
export function outcomePage(outcome: SignInOutcome | undefined): CallbackPage {
  if (outcome?.ok) {
    return htmlPage('Signed in', 'Signed in — you can close this tab and return to Latchkey.', undefined);
  }
  if (!outcome) {
    return htmlPage('Sign-in ended', 'This sign-in attempt is no longer active (it was cancelled or timed out).', 'Return to Latchkey and sign in again.');
  }
  const { error } = outcome;
  const code: AuthErrorCode | undefined = error instanceof AuthError ? error.code : undefined;
  const message = error instanceof Error ? error.message : 'The sign-in could not be completed.';
  return htmlPage(code === 'sign_in_denied' ? 'Sign-in not completed' : 'Sign-in failed', message, adviceFor(code));
}

function adviceFor(code: AuthErrorCode | undefined): string {
  switch (code) {
    case 'sign_in_denied':
      return 'Return to Latchkey to try again, or ask your administrator for access.';
    case 'provider_unreachable':
      return 'Check your network connection (and proxy settings), then return to Latchkey and sign in again.';
    case 'sign_in_cancelled':
    case 'sign_in_timeout':
      return 'Return to Latchkey and sign in again.';
    default:
      return 'Return to Latchkey and sign in again. If this keeps happening, run `latchkey doctor` to check the configuration.';
  }
}

function htmlPage(title: string, message: string, advice: string | undefined): CallbackPage {
  const nonce = randomBytes(16).toString('base64');
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Latchkey</title>
<style nonce="${nonce}">
body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; display: grid; place-items: center; min-height: 100vh; margin: 0; }
main { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 2rem 2.5rem; max-width: 32rem; }
h1 { font-size: 1.25rem; margin: 0 0 .75rem; }
p { margin: .5rem 0; white-space: pre-line; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p id="message">${escapeHtml(message)}</p>
${advice ? `<p id="advice">${escapeHtml(advice)}</p>\n` : ''}</main>
</body>
</html>
`;
  return { status: 200, headers: { ...strictHeaders(nonce), 'Content-Type': 'text/html; charset=utf-8' }, body };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
