// The page's wiring: state from main renders the view; buttons call
// window.auth / window.app (the preload's bridge). Nothing else reaches main.
import type { AuthState, ErrorInfo } from '../shared/ipc.ts';
import { apiFetch, toErrorInfo } from './api-fetch.ts';
import { createView } from './view.ts';

const view = createView(document);
const { auth, app } = window;

let state: AuthState = { status: 'signed-out' };
/** An error from the last action when the state itself carries none (e.g. a failed sign-out). */
let localError: ErrorInfo | undefined;

const render = (next: AuthState) => {
  state = next;
  view.render(state, localError);
};

/** Cancelling (or restarting) a sign-in rejects the pending login with login_cancelled: that is not news to the user. */
const QUIET_CODES = new Set(['login_cancelled']);

function report(error: unknown): void {
  const info = toErrorInfo(error);
  if (QUIET_CODES.has(info.code)) return;
  localError = info;
  view.render(state, localError);
}

async function run(button: HTMLButtonElement, action: () => Promise<unknown>): Promise<void> {
  view.setBusy(button, true);
  try {
    await action();
  } catch (error) {
    report(error);
  } finally {
    view.setBusy(button, false);
  }
}

function startSignIn(): void {
  localError = undefined;
  // login() resolves only once the browser round trip is done; the state events drive the view meanwhile.
  auth.login().then(render, report);
}

view.buttons.signIn.addEventListener('click', startSignIn);
// The core cancels the pending attempt and opens a fresh sign-in page.
view.buttons.reopen.addEventListener('click', startSignIn);
view.buttons.cancel.addEventListener('click', () => void run(view.buttons.cancel, () => auth.cancelLogin()));
view.buttons.signOut.addEventListener('click', () => {
  localError = undefined;
  void run(view.buttons.signOut, async () => render(await auth.logout()));
});

view.buttons.callApi.addEventListener('click', () =>
  void run(view.buttons.callApi, async () => {
    try {
      const { apiBaseUrl } = await app.getConfig();
      const response = await apiFetch(auth, fetch.bind(window), new URL('me', withTrailingSlash(apiBaseUrl)).href, { headers: { accept: 'application/json' } });
      view.showApiOutcome({ status: response.status, statusText: response.statusText, body: await response.text() });
    } catch (error) {
      view.showApiError(toErrorInfo(error));
    }
    // The token line reflects any refresh the call caused.
    render(await auth.getState());
  }),
);

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

auth.onStateChange(render);
auth.getState().then(render, report);
