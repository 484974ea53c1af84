// The "Sign in with a code" card (RFC 8628 §3.3): the code large, the address, a QR code of the address
// (with the code in it when the provider gives one), who asked, and a countdown to the code's expiry.
// The QR code is an SVG made here (uqr) shown as a data: image — the CSP allows data: images, and an
// <img> never runs anything inside an SVG.
import { renderSVG } from 'uqr';
import type { DeviceCodePrompt } from '../shared/auth-state.ts';
import { inertText } from '../shared/inert-text.ts';

export interface DeviceCodeView {
  /** The codes to show, or undefined while they are being asked for. */
  show(prompt: DeviceCodePrompt | undefined): void;
  /** The card is hidden: stop the countdown. */
  hide(): void;
}

export function createDeviceCodeView(get: <T extends HTMLElement>(id: string, type: { new (): T }) => T, announce: (text: string) => void): DeviceCodeView {
  const waiting = get('device-waiting', HTMLElement);
  const promptBox = get('device-prompt', HTMLElement);
  const host = get('device-host', HTMLElement);
  const address = get('device-address', HTMLElement);
  const userCode = get('device-user-code', HTMLElement);
  const qr = get('device-qr', HTMLImageElement);
  const who = get('device-who', HTMLElement);
  const countdown = get('device-countdown', HTMLElement);
  const copy = get('copy-code', HTMLButtonElement);
  let timer: ReturnType<typeof setInterval> | undefined;
  let shownCode: string | undefined;

  const stopCountdown = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  const tick = (expiresAt: number) => {
    const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    countdown.textContent = left > 0 ? `The code expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.` : 'The code has expired. Cancel and sign in again for a new one.';
    // An expired code is of no use: nothing to copy, and a QR code nobody should scan.
    copy.disabled = left === 0;
    promptBox.classList.toggle('expired', left === 0);
    if (left === 0) stopCountdown();
  };

  return {
    show(prompt) {
      waiting.hidden = prompt !== undefined;
      promptBox.hidden = prompt === undefined;
      who.hidden = prompt === undefined;
      countdown.hidden = prompt === undefined;
      copy.disabled = prompt === undefined;
      if (!prompt) {
        stopCountdown();
        shownCode = undefined;
        announce('Asking the provider for a code.');
        return;
      }
      if (shownCode === prompt.userCode) return;
      shownCode = prompt.userCode;
      // The site apart from the path: what a person checks is their provider's (RFC 8628 §5.4). The core refused any
      // address with invisible or direction-changing characters; inertText is the page's own guard.
      host.textContent = inertText(prompt.verificationHost);
      address.textContent = inertText(prompt.verificationUri);
      userCode.textContent = prompt.userCode;
      const target = prompt.verificationUriComplete ?? prompt.verificationUri;
      qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(renderSVG(target, { border: 1 }))}`;
      // RFC 8628 §5.4: a code can be phished — say which app asked which provider, so an unexpected one is recognised.
      who.textContent = `Latchkey (client ${prompt.clientId}) asked ${prompt.issuer} for this code. Enter it only if you started this sign-in yourself.`;
      stopCountdown();
      tick(prompt.expiresAt);
      timer = setInterval(() => tick(prompt.expiresAt), 1000);
      announce(`On the site ${inertText(prompt.verificationHost)}, open ${inertText(prompt.verificationUri)} on any device and enter the code ${inertText(prompt.userCode).split('').join(' ')}.`);
    },
    hide() {
      stopCountdown();
      shownCode = undefined;
    },
  };
}
