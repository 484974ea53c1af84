import { DEMO_USERS } from './accounts.ts';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in (your user id)',
  profile: 'Your name and picture',
  email: 'Your email address',
  offline_access: 'Keep you signed in (a refresh token)',
};

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; color: CanvasText; }
  main { width: min(26rem, 92vw); padding: 2rem; border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: 0.75rem; }
  h1 { font-size: 1.4rem; margin: 0 0 0.25rem; }
  p.lead { margin: 0 0 1.25rem; opacity: 0.8; }
  label { display: block; font-weight: 600; margin: 0.9rem 0 0.3rem; }
  input { width: 100%; box-sizing: border-box; padding: 0.55rem 0.6rem; font: inherit; border: 1px solid GrayText; border-radius: 0.4rem; }
  button { font: inherit; padding: 0.55rem 1.1rem; border-radius: 0.4rem; border: 1px solid #2855c7; background: #2855c7; color: #fff; cursor: pointer; }
  button.secondary { background: transparent; color: inherit; border-color: GrayText; }
  .actions { display: flex; gap: 0.75rem; margin-top: 1.25rem; }
  :focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
  .error { padding: 0.6rem 0.8rem; border-radius: 0.4rem; background: #fde8e8; color: #8a1c1c; margin-bottom: 0.5rem; }
  table { border-collapse: collapse; margin-top: 1.5rem; width: 100%; font-size: 0.9rem; }
  caption { text-align: left; font-weight: 600; margin-bottom: 0.3rem; }
  th, td { text-align: left; padding: 0.25rem 0.5rem 0.25rem 0; }
  code { font-size: 0.95em; }
  ul.scopes { padding-left: 1.2rem; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · Latchkey demo provider</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

/** The sign-in form: login and password, the demo users listed, an error when the last attempt failed. */
export function renderSignInPage(options: { action: string; abortAction: string; clientName: string; login?: string; error?: string; twoStep?: boolean }): string {
  const users = DEMO_USERS.map((user) => `<tr><td><code>${escapeHtml(user.login)}</code></td><td><code>${escapeHtml(user.password)}</code></td><td><code>${escapeHtml(user.oneTimeCode)}</code></td><td>${escapeHtml(user.name)}</td></tr>`).join('\n');
  // The app asked for the stronger sign-in (acr_values): the second step, a one-time code.
  const secondStep = options.twoStep
    ? `\n  <p class="lead" id="second-step">This action needs a stronger sign-in: also enter the one-time code from your authenticator.</p>\n  <label for="one_time_code">One-time code</label>\n  <input id="one_time_code" name="one_time_code" type="text" inputmode="numeric" autocomplete="one-time-code" required>`
    : '';
  const error = options.error ? `<p class="error" role="alert" id="error">${escapeHtml(options.error)}</p>` : '';
  const describedBy = options.error ? ' aria-describedby="error"' : '';
  return layout('Sign in', `<h1>Sign in</h1>
<p class="lead">to continue to ${escapeHtml(options.clientName)}</p>
${error}
<form method="post" action="${escapeHtml(options.action)}" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" required autocapitalize="none" spellcheck="false" value="${escapeHtml(options.login ?? '')}"${options.login ? '' : ' autofocus'}${describedBy}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required${options.login ? ' autofocus' : ''}${describedBy}>${secondStep}
  <div class="actions">
    <button type="submit">Sign in</button>
    <button type="submit" class="secondary" formaction="${escapeHtml(options.abortAction)}" formnovalidate>Cancel</button>
  </div>
</form>
<table>
  <caption>Demo users</caption>
  <thead><tr><th scope="col">Username</th><th scope="col">Password</th><th scope="col">One-time code</th><th scope="col">Name</th></tr></thead>
  <tbody>
${users}
  </tbody>
</table>`);
}

/** The consent step: what the app asks for (scopes, API audience), Allow or Deny. */
export function renderConsentPage(options: { action: string; clientName: string; userName: string; scopes: string[]; audiences: string[] }): string {
  const scopes = options.scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(SCOPE_DESCRIPTIONS[scope] ?? 'Access to this scope')}</li>`).join('\n');
  const audiences = options.audiences.length
    ? `<p>It will call this API on your behalf:</p>\n<ul class="scopes">${options.audiences.map((audience) => `<li><code>${escapeHtml(audience)}</code></li>`).join('')}</ul>`
    : '';
  return layout('Allow access', `<h1>Allow access?</h1>
<p class="lead">Signed in as ${escapeHtml(options.userName)}. <strong>${escapeHtml(options.clientName)}</strong> asks for:</p>
<ul class="scopes">
${scopes || '<li>Confirming access you granted before</li>'}
</ul>
${audiences}
<form method="post" action="${escapeHtml(options.action)}">
  <div class="actions">
    <button type="submit" name="consent" value="allow" autofocus>Allow</button>
    <button type="submit" name="consent" value="deny" class="secondary">Deny</button>
  </div>
</form>`);
}

/** A plain error page (an expired or unknown sign-in attempt, a provider error). */
export function renderErrorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

/** RP-initiated logout's confirmation; `providerForm` is oidc-provider's own hidden form (it carries the xsrf token). */
export function renderLogoutPage(providerForm: string): string {
  return layout('Sign out', `<h1>Sign out?</h1>
<p class="lead">You will be signed out of the Latchkey demo provider in this browser.</p>
${providerForm}
<div class="actions">
  <button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
  <button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
</div>`);
}

/** Shown after a successful RP-initiated logout without a redirect back to the app. */
export function renderSignedOutPage(): string {
  return layout('Signed out', '<h1>Signed out</h1>\n<p>You can close this tab and return to the app.</p>');
}
