// The page's wiring: state from main renders the view; buttons call
// window.auth / window.app (the preload's bridge). Nothing else reaches main.
import { toErrorInfo, type ErrorCode, type ErrorInfo } from '../shared/errors.ts';
import type { AuthState } from '../shared/auth-state.ts';
import { apiFetch } from './api-fetch.ts';
import { createAccountMenu } from './account-menu.ts';
import { createView, isOutOfReach, type PageContext } from './view.ts';

const { auth, app } = window;
const view = createView(document, { profilePicture: () => auth.profilePicture() });
const accountMenu = createAccountMenu(document, {
  // Each acts for the chosen account from then on: its calls (getAccessToken, requestHeaders…) are that account's.
  switchTo: (account) => void run(view.buttons.signOut, async () => render(await auth.switchAccount(account))),
  add: () => {
    localError = undefined;
    page.signingInWithCode = false;
    auth.addAccount().then(render, report);
  },
  signOutOne: () => view.buttons.signOut.click(),
  signOutAll: () => {
    localError = undefined;
    void run(view.buttons.signOut, async () => render(await auth.signOutAll()));
  },
});

let state: AuthState = { status: 'signed-out' };
/** An error from the last action when the state itself carries none (e.g. a failed sign-out). */
let localError: ErrorInfo | undefined;
const page: PageContext = { signingInWithCode: false, codeOffered: false };

const render = (next: AuthState) => {
  state = next;
  view.render(state, localError, page);
  accountMenu.render(state);
};

/**
 * Whether a failed action's error is shown. Cancelling (or restarting) a
 * sign-in rejects the pending one with sign_in_cancelled: not news to the user.
 */
const SHOWN: Record<ErrorCode, boolean> = {
  sign_in_cancelled: false,
  config_invalid: true,
  sign_in_timeout: true,
  sign_in_denied: true,
  browser_unavailable: true,
  port_in_use: true,
  state_mismatch: true,
  id_token_invalid: true,
  provider_unreachable: true,
  provider_error: true,
  proxy_auth_required: true,
  certificate_untrusted: true,
  signed_out: true,
  session_ended: true,
  keychain_unavailable: true,
  keychain_locked: true,
  keychain_refused: true,
  invalid_argument: true,
  account_unknown: true,
  account_mismatch: true,
  api_unauthorized: true,
  api_unreachable: true,
  sender_refused: true,
  internal_error: true,
};

function report(error: unknown): void {
  const info = toErrorInfo(error);
  if (!SHOWN[info.code]) return;
  localError = info;
  view.render(state, localError, page);
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
  page.signingInWithCode = false;
  // signIn() resolves only once the browser round trip is done; the state events drive the view meanwhile.
  auth.signIn().then(render, report);
}

view.buttons.signIn.addEventListener('click', startSignIn);
view.buttons.signInCode.addEventListener('click', () => {
  localError = undefined;
  page.signingInWithCode = true;
  // Resolves once the code was entered and approved elsewhere; meanwhile the state carries the code to show.
  auth.deviceSignIn().then(render, report);
  view.render(state, localError, page);
});
view.buttons.cancelCode.addEventListener('click', () => void run(view.buttons.cancelCode, () => auth.cancelSignIn()));
view.buttons.copyCode.addEventListener('click', () =>
  void run(view.buttons.copyCode, async () => {
    await auth.copyUserCode();
    view.buttons.copyCode.textContent = 'Copied';
    setTimeout(() => (view.buttons.copyCode.textContent = 'Copy code'), 2000);
  }),
);
// The core cancels the pending attempt and opens a fresh sign-in page.
view.buttons.reopen.addEventListener('click', startSignIn);
view.buttons.cancel.addEventListener('click', () => void run(view.buttons.cancel, () => auth.cancelSignIn()));
view.buttons.signOut.addEventListener('click', () => {
  localError = undefined;
  void run(view.buttons.signOut, async () => render(await auth.signOut()));
});

// The prompt (when the keychain can show one) opens on the user's click only; focus merely looks again, so a dismissed prompt does not come back.
view.buttons.unlockRetry.addEventListener('click', () =>
  void run(view.buttons.unlockRetry, async () => {
    view.setKeychainWaiting(true);
    try {
      render(await auth.retryKeychain('prompt'));
    } finally {
      view.setKeychainWaiting(false);
    }
  }),
);
window.addEventListener('focus', () => {
  if (isOutOfReach(state)) auth.retryKeychain('check').then(render, report);
});

/** Calls `path` under the API (`which`: the first, or the second configured) and shows the answer; a step-up the API asks for is explained before the browser opens. */
const callApi = (button: HTMLButtonElement, path: string, which = 0) =>
  void run(button, async () => {
    try {
      const { apiBaseUrl, apis } = await app.getConfig();
      const baseUrl = apis[which]?.baseUrl ?? apiBaseUrl;
      // Main picks the API's own token by the URL: the second API's call never carries the first one's.
      const response = await apiFetch(auth, fetch.bind(window), new URL(path, withTrailingSlash(baseUrl)).href, { headers: { accept: 'application/json' } }, { onStepUp: (request) => view.showStepUpNotice(request.reason) });
      view.showApiOutcome({ status: response.status, statusText: response.statusText, body: await response.text() });
    } catch (error) {
      view.showApiError(toErrorInfo(error));
    }
    // The token line reflects any refresh the call caused.
    render(await auth.getState());
  });
view.buttons.callApi.addEventListener('click', () => callApi(view.buttons.callApi, 'me'));
// The demo API's route that asks for the two-step sign-in (RFC 9470).
view.buttons.callStrong.addEventListener('click', () => callApi(view.buttons.callStrong, 'strong/me'));
// With a second API configured (the demo's file store, say), a call to it.
view.buttons.callSecondApi.addEventListener('click', () => callApi(view.buttons.callSecondApi, 'me', 1));
app.getConfig().then(({ apis }) => view.offerSecondApi(apis[1]?.name), () => undefined);

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

auth.onStateChange(render);
auth.getState().then(render, report);
auth.offersDeviceSignIn().then((offered) => {
  page.codeOffered = offered;
  view.render(state, localError, page);
}, () => undefined);
