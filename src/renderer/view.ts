// Turns an AuthState into the page. Text only ever goes in through
// textContent and attributes, never innerHTML, so nothing from the provider or
// the API can become markup; and what the provider or the API wrote (a name, an
// error, a body) goes through inertText, so no control, bidi or format
// character reorders or hides what the page says.
import type { AuthState, UserProfile } from '../shared/auth-state.ts';
import type { ErrorInfo } from '../shared/errors.ts';
import { inertText } from '../shared/inert-text.ts';
import { createDeviceCodeView } from './device-code-view.ts';

type ViewName = 'loading' | 'signed-out' | 'signing-in' | 'device-code' | 'signed-in';

/** What the page knows that the state does not: which sign-in it started, and whether the provider offers sign-in with a code. */
export interface PageContext {
  signingInWithCode: boolean;
  codeOffered: boolean;
}

export interface ApiOutcome {
  status: number;
  statusText: string;
  body: string;
}

export interface View {
  render(state: AuthState, localError?: ErrorInfo, page?: PageContext): void;
  showApiOutcome(outcome: ApiOutcome): void;
  showApiError(error: ErrorInfo): void;
  /** Why the browser opens now: the API asked for a stronger or more recent sign-in (its words, when it gave them). */
  showStepUpNotice(reason: string | undefined): void;
  /** A second API is configured (its name): the window offers a call to it. */
  offerSecondApi(name: string | undefined): void;
  setBusy(button: HTMLButtonElement, busy: boolean): void;
  /** While a retry waits on the keychain (its unlock prompt may be open). */
  setKeychainWaiting(waiting: boolean): void;
  readonly buttons: Record<'signIn' | 'signInCode' | 'copyCode' | 'cancelCode' | 'reopen' | 'cancel' | 'callApi' | 'callStrong' | 'callSecondApi' | 'signOut' | 'unlockRetry', HTMLButtonElement>;
}

function element<T extends HTMLElement>(doc: Document, id: string, type: { new (): T }): T {
  const found = doc.getElementById(id);
  if (!(found instanceof type)) throw new Error(`The page is missing #${id}.`);
  return found;
}

export interface ViewDeps {
  /** The signed-in user's picture as a `data:` URL from main (`window.auth.profilePicture`), or null. */
  profilePicture?(): Promise<string | null>;
}

export function createView(doc: Document, deps: ViewDeps = {}): View {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }) => element(doc, id, type);
  const root = get('app', HTMLElement);
  const announcer = get('announcer', HTMLElement);
  const views: Record<ViewName, HTMLElement> = {
    loading: get('view-loading', HTMLElement),
    'signed-out': get('view-signed-out', HTMLElement),
    'signing-in': get('view-signing-in', HTMLElement),
    'device-code': get('view-device-code', HTMLElement),
    'signed-in': get('view-signed-in', HTMLElement),
  };
  const headings: Partial<Record<ViewName, HTMLElement>> = {
    'signed-out': get('signed-out-title', HTMLElement),
    'signing-in': get('signing-in-title', HTMLElement),
    'device-code': get('device-code-title', HTMLElement),
    'signed-in': get('user-name', HTMLElement),
  };
  const offlineBanner = get('offline-banner', HTMLElement);
  const memoryBanner = get('memory-banner', HTMLElement);
  const lockedBanner = get('locked-banner', HTMLElement);
  const lockedTitle = get('locked-title', HTMLElement);
  const lockedDetail = get('locked-detail', HTMLElement);
  const loadingText = get('loading-text', HTMLElement);
  const signedOutError = get('signed-out-error', HTMLElement);
  const codeOffer = get('code-offer', HTMLElement);
  const avatar = get('avatar', HTMLImageElement);
  const initials = get('initials', HTMLElement);
  const userName = get('user-name', HTMLElement);
  const userEmail = get('user-email', HTMLElement);
  const tokenLine = get('token-line', HTMLElement);
  const apiResult = get('api-result', HTMLElement);
  const apiStatus = get('api-status', HTMLElement);
  const apiBody = get('api-body', HTMLElement);
  const apiError = get('api-error', HTMLElement);
  const buttons = {
    signIn: get('sign-in', HTMLButtonElement),
    signInCode: get('sign-in-code', HTMLButtonElement),
    copyCode: get('copy-code', HTMLButtonElement),
    cancelCode: get('cancel-code', HTMLButtonElement),
    reopen: get('reopen', HTMLButtonElement),
    cancel: get('cancel', HTMLButtonElement),
    callApi: get('call-api', HTMLButtonElement),
    callStrong: get('call-strong', HTMLButtonElement),
    callSecondApi: get('call-second-api', HTMLButtonElement),
    signOut: get('sign-out', HTMLButtonElement),
    unlockRetry: get('unlock-retry', HTMLButtonElement),
  };
  let keychainWaiting = false;
  /** The second configured API's name, when there is one. */
  let secondApi: string | undefined;
  let lockedAway: AuthState['keychain'];

  const showKeychain = () => {
    const refused = lockedAway === 'refused';
    lockedTitle.textContent = refused ? 'Your keychain refused access to your session' : 'Your keychain is locked';
    lockedDetail.textContent = keychainWaiting
      ? 'Waiting for your keychain…'
      : refused
        ? 'Your session is kept. Allow Latchkey to use your keychain, then retry.'
        : 'Your session is kept. Unlock your keychain (log in to your desktop session or open your keyring manager), then retry.';
    buttons.unlockRetry.textContent = refused ? 'Allow and retry' : 'Unlock and retry';
  };

  let current: ViewName = 'loading';
  let lastAnnouncement = '';
  let shownUserSub: string | undefined;
  /** The picture claim the avatar shows (or is being fetched for). */
  let shownPicture: string | undefined;

  avatar.addEventListener('error', () => {
    avatar.hidden = true;
    initials.hidden = false;
  });

  const announce = (text: string) => {
    if (text === lastAnnouncement) return;
    lastAnnouncement = text;
    announcer.textContent = text;
  };

  const deviceCode = createDeviceCodeView(get, (text) => announce(text));

  const show = (name: ViewName) => {
    if (name !== 'device-code') deviceCode.hide();
    if (name === current) return;
    const focusWasInside = views[current].contains(doc.activeElement);
    for (const [key, section] of Object.entries(views)) section.hidden = key !== name;
    current = name;
    // Keep keyboard users oriented: focus follows the content that replaced theirs.
    if (focusWasInside || doc.activeElement === doc.body) headings[name]?.focus();
  };

  const showUser = (shownUser: UserProfile) => {
    const user = { ...shownUser, sub: inertText(shownUser.sub), ...(shownUser.name ? { name: inertText(shownUser.name) } : {}), ...(shownUser.email ? { email: inertText(shownUser.email) } : {}) };
    userName.textContent = user.name || user.email || 'Signed in';
    userEmail.textContent = user.name && user.email ? user.email : '';
    userEmail.hidden = userEmail.textContent === '';
    initials.textContent = initialsOf(user);
    avatar.alt = `Picture of ${userName.textContent}`;
    if (user.picture !== shownPicture) {
      // Initials until main hands over the picture as a data: URL (the CSP allows no other image address).
      shownPicture = user.picture;
      avatar.removeAttribute('src');
      avatar.hidden = true;
      initials.hidden = false;
      const asked = user.picture;
      if (asked !== undefined && deps.profilePicture) {
        void deps.profilePicture().then(
          (picture) => {
            if (shownPicture !== asked || !picture || !isDataImage(picture)) return;
            avatar.src = picture;
            avatar.hidden = false;
            initials.hidden = true;
          },
          () => undefined,
        );
      }
    }
    if (shownUserSub !== user.sub) apiResult.hidden = true;
    shownUserSub = user.sub;
  };

  return {
    buttons,
    render(state, localError, page = { signingInWithCode: false, codeOffered: false }) {
      root.setAttribute('aria-busy', 'false');
      offlineBanner.hidden = state.status !== 'offline';
      memoryBanner.hidden = state.keychain !== 'memory-only' || state.status === 'signed-out';
      // A stored session locked away in the keychain: unlocking is the way back, not signing in (or out) again.
      const outOfReach = isOutOfReach(state);
      lockedAway = outOfReach ? state.keychain : undefined;
      lockedBanner.hidden = !outOfReach;
      showKeychain();
      buttons.signIn.hidden = outOfReach;
      buttons.callApi.hidden = outOfReach;
      buttons.callStrong.hidden = outOfReach;
      buttons.callSecondApi.hidden = outOfReach || secondApi === undefined;
      buttons.signOut.hidden = outOfReach;

      if (state.status === 'starting') {
        // Opening the stored session can wait on a keychain unlock prompt: say so rather than show nothing (or "Sign in").
        loadingText.textContent = state.keychainWaiting ? 'Waiting for your keychain…' : 'Loading…';
        show('loading');
        announce(loadingText.textContent);
      } else if (state.status === 'signing-in' && (state.deviceCode || page.signingInWithCode)) {
        show('device-code');
        deviceCode.show(state.deviceCode);
      } else if (state.status === 'signing-in') {
        show('signing-in');
        announce('Finish signing in in your browser.');
      } else if ((state.status === 'signed-in' || state.status === 'offline') && state.user) {
        showUser(state.user);
        tokenLine.textContent = outOfReach ? 'No access token while the keychain keeps your session locked away.' : describeAccessToken(state.accessToken);
        show('signed-in');
        announce(
          outOfReach
            ? `${lockedTitle.textContent}. Your session is kept.`
            : state.status === 'offline'
              ? 'The sign-in provider cannot be reached. Your session is kept.'
              : `Signed in as ${userName.textContent}.`,
        );
      } else {
        const shownError = state.error ?? localError;
        const error = shownError && { ...shownError, message: inertText(shownError.message) };
        signedOutError.textContent = error ? error.message : '';
        signedOutError.hidden = !error;
        buttons.signInCode.hidden = outOfReach || !page.codeOffered;
        // No browser here: the way that still works is the code, so it becomes the main button.
        const offerCode = page.codeOffered && error?.code === 'browser_unavailable';
        codeOffer.hidden = !offerCode;
        buttons.signInCode.classList.toggle('primary', offerCode);
        buttons.signIn.classList.toggle('primary', !offerCode);
        apiResult.hidden = true;
        show('signed-out');
        announce(error ? `Signed out. ${error.message}` : 'Signed out.');
      }
    },
    showApiOutcome(outcome) {
      const ok = outcome.status >= 200 && outcome.status < 300;
      apiStatus.textContent = `${outcome.status} ${inertText(outcome.statusText)}`.trim();
      apiStatus.classList.toggle('badge-error', !ok);
      apiBody.textContent = inertText(prettyJson(outcome.body), { multiline: true });
      apiBody.hidden = false;
      apiError.hidden = true;
      apiResult.hidden = false;
      announce(ok ? `The API answered ${outcome.status}.` : `The API answered with an error, ${outcome.status}.`);
    },
    showApiError(shownError) {
      const error = { ...shownError, message: inertText(shownError.message) };
      apiStatus.textContent = 'Error';
      apiStatus.classList.add('badge-error');
      apiError.textContent = error.message;
      apiError.hidden = false;
      apiBody.hidden = true;
      apiResult.hidden = false;
      announce(`The API call failed. ${error.message}`);
    },
    offerSecondApi(name) {
      secondApi = name;
      buttons.callSecondApi.textContent = name === undefined ? '' : `Call ${inertText(name)}`;
      buttons.callSecondApi.hidden = name === undefined;
    },
    showStepUpNotice(reason) {
      apiStatus.textContent = 'Sign in again';
      apiStatus.classList.remove('badge-error');
      apiError.textContent = `This action needs you to sign in again${reason ? `: ${inertText(reason)}` : ', more strongly or more recently'}. Your browser opens for it; finish there, and the call is sent once more.`;
      apiError.hidden = false;
      apiBody.hidden = true;
      apiResult.hidden = false;
      announce(apiError.textContent);
    },
    setKeychainWaiting(waiting) {
      keychainWaiting = waiting;
      showKeychain();
    },
    setBusy(button, busy) {
      button.disabled = busy;
      button.setAttribute('aria-busy', String(busy));
    },
  };
}

/** A stored session the keychain keeps locked away (or refuses): kept, but out of reach until the user unlocks it. */
export function isOutOfReach(state: AuthState): boolean {
  return state.keychain === 'locked' || state.keychain === 'refused';
}

/** "Access token refreshed 14:03:22, expires 14:08:22" — when and until when, never the token; and whether it is bound to this computer's key (DPoP). */
export function describeAccessToken(token: AuthState['accessToken'], locale?: string): string {
  if (!token) return 'No access token yet; one is fetched when you call the API.';
  const time = (ms: number) => new Date(ms).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const refreshed = `Access token refreshed ${time(token.refreshedAt)}`;
  const line = token.expiresAt ? `${refreshed}, expires ${time(token.expiresAt)}` : refreshed;
  return token.dpop ? `${line} · bound to this computer (DPoP)` : line;
}

/** Only data: images are shown (what main hands over) — an <img> never runs SVG scripts; anything else leaves the initials. */
function isDataImage(picture: string): boolean {
  return /^data:image\/[a-z0-9.+-]+;base64,/i.test(picture);
}

/**
 * A picture the page may show as it is: a data: image (the CSP allows no other image address, so an https
 * one would be blocked — the signed-in user's comes through main instead, `profilePicture`).
 */
export function safePictureUrl(picture: string | undefined): string | undefined {
  return picture !== undefined && isDataImage(picture) ? picture : undefined;
}

export function initialsOf(user: UserProfile): string {
  const source = (user.name || user.email || user.sub).trim();
  const words = source.split(/[\s@._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [source];
  return letters.map((word) => Array.from(word ?? '')[0] ?? '').join('').toUpperCase() || '?';
}

function prettyJson(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
