import { AuthError, redactSecrets, toErrorInfo } from '../core/index.ts';
import type { AccountSessions, AuthConfig, AuthSession, Logger } from '../core/index.ts';
import { INVOKE_CHANNELS } from '../shared/ipc.ts';
import type { ErrorInfo } from '../shared/errors.ts';
import { parseStepUpChallenge } from '../shared/step-up.ts';
import type { InvokeChannel, InvokeChannels, IpcResult } from '../shared/ipc.ts';
import { isAppUrl } from './window/app-protocol.ts';

/** A JWT is a few kilobytes at most; anything far larger is not a token we issued. */
export const MAX_TOKEN_ARGUMENT_LENGTH = 16 * 1024;
/** A URL longer than this is not one of our API's. */
const MAX_URL_ARGUMENT_LENGTH = 8 * 1024;
/** A picture the provider sends inline: an image, base64, no larger than a fetched one may be (256 KiB, as base64). */
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/;
const MAX_DATA_PICTURE_LENGTH = 350_000;

/** The part of Electron's `WebFrameMain` the sender check reads. */
export interface IpcSenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/** The part of Electron's `IpcMainInvokeEvent` the handlers read. */
export interface IpcInvokeEventLike {
  readonly senderFrame: IpcSenderFrame | null;
}

/** The part of Electron's `ipcMain` the handlers need; tests pass a plain object. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

type Handler<C extends InvokeChannel> = (...args: Parameters<InvokeChannels[C]>) => ReturnType<InvokeChannels[C]>;
type ArgumentParser<C extends InvokeChannel> = (args: readonly unknown[]) => Parameters<InvokeChannels[C]>;

/** Every channel needs both a handler and an argument parser: a new channel in `InvokeChannels` fails to compile here until it has them. */
type Handlers = { [C in InvokeChannel]: Handler<C> };
type ArgumentParsers = { [C in InvokeChannel]: ArgumentParser<C> };

export const SENDER_REFUSED: ErrorInfo = {
  code: 'sender_refused',
  message: 'This request did not come from the Latchkey window and was refused.',
};

const INTERNAL_ERROR: ErrorInfo = {
  code: 'internal_error',
  message: 'Something went wrong inside Latchkey. Try again; if it keeps happening, restart the app.',
};

export interface IpcHandlerDeps {
  /** The window's session: it acts for one account at a time and switches between them (see startAccountSessions). */
  session: AuthSession & Pick<AccountSessions, 'switchAccount' | 'signOutAll'>;
  config: Pick<AuthConfig, 'apiBaseUrl' | 'issuer' | 'apis'>;
  /** Opens the provider's end-session page in the system browser (the caller checks it is a provider page URL). */
  openEndSession(url: string): Promise<void>;
  /** Puts text on the system clipboard (Electron's `clipboard.writeText`). */
  copyText(text: string): void;
  /** The picture at an https address as a `data:` URL, or undefined when it cannot be shown (`createProfilePictures`); without it, only `data:` pictures are shown. */
  profilePicture?(picture: string): Promise<string | undefined>;
  logger?: Logger;
}

const noArguments = (args: readonly unknown[]): [] => {
  if (args.length !== 0) throw new AuthError('invalid_argument', 'This call takes no arguments.');
  return [];
};

const ARGUMENT_PARSERS: ArgumentParsers = {
  'auth:get-state': noArguments,
  'auth:sign-in': noArguments,
  'auth:device-sign-in': noArguments,
  'auth:offers-device-sign-in': noArguments,
  'auth:copy-user-code': noArguments,
  'auth:cancel-sign-in': noArguments,
  'auth:sign-out': noArguments,
  'auth:add-account': noArguments,
  'auth:switch-account': (args) => {
    const [account] = args;
    if (args.length !== 1 || typeof account !== 'string' || account.length === 0 || account.length > 1_024) throw new AuthError('invalid_argument', 'switchAccount takes the name of an account.');
    return [account];
  },
  'auth:sign-out-all': noArguments,
  'auth:get-access-token': noArguments,
  'auth:refresh-access-token': (args) => {
    const [rejectedToken] = args;
    if (args.length !== 1 || typeof rejectedToken !== 'string' || rejectedToken.length === 0 || rejectedToken.length > MAX_TOKEN_ARGUMENT_LENGTH) {
      throw new AuthError('invalid_argument', 'refreshAccessToken needs the access token the API rejected.');
    }
    return [rejectedToken];
  },
  'auth:request-headers': (args) => {
    const [request] = args;
    const { method, url, nonce } = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
    const fields = typeof request === 'object' && request !== null ? Object.keys(request) : [];
    if (
      args.length !== 1 ||
      typeof method !== 'string' ||
      typeof url !== 'string' ||
      url.length > MAX_URL_ARGUMENT_LENGTH ||
      (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_TOKEN_ARGUMENT_LENGTH)) ||
      fields.some((field) => !['method', 'url', 'nonce'].includes(field))
    ) {
      throw new AuthError('invalid_argument', 'requestHeaders takes { method, url } (and nonce, when the API asked for one).');
    }
    return [{ method, url, ...(nonce !== undefined ? { nonce: nonce as string } : {}) }];
  },
  'auth:step-up': (args) => {
    const [challenge] = args;
    if (args.length !== 1 || typeof challenge !== 'string' || challenge.length === 0 || challenge.length > MAX_URL_ARGUMENT_LENGTH) {
      throw new AuthError('invalid_argument', "stepUp takes the API's WWW-Authenticate value.");
    }
    return [challenge];
  },
  'auth:profile-picture': noArguments,
  'auth:retry-keychain': (args) => {
    const [mode] = args;
    if (args.length !== 1 || (mode !== 'prompt' && mode !== 'check')) throw new AuthError('invalid_argument', "retryKeychain takes 'prompt' or 'check'.");
    return [mode];
  },
  'app:get-config': noArguments,
};

/**
 * What the window is sent, with any error sentence in it redacted
 * (`redactSecrets`): error text may quote a provider's `error_description` or
 * a URL, and a page must never be shown a secret in it. Anything else — an
 * access token the window asked for — is passed unchanged.
 */
export function redactedForWindow<T>(value: T): T {
  const error = (value as { error?: unknown } | null | undefined)?.error;
  if (typeof value !== 'object' || value === null || typeof error !== 'object' || error === null) return value;
  const { message } = error as { message?: unknown };
  return typeof message === 'string' ? { ...value, error: { ...error, message: redactSecrets(message) } } : value;
}

/**
 * True when the IPC message comes from the app's own page in a top-level
 * frame — not an iframe, not a page that navigated elsewhere (Electron
 * security checklist §17, "Validate the sender of all IPC messages").
 */
export function isTrustedSender(frame: IpcSenderFrame | null | undefined): boolean {
  return !!frame && frame.parent === null && isAppUrl(frame.url);
}

/**
 * Registers one `ipcMain.handle` per channel of the contract. Each handler
 * checks the sender, validates the arguments, calls the session and resolves
 * to an `IpcResult`, so failures cross as `{ code, message }` rather than as
 * Electron's flattened error strings. Returns a function that removes them.
 */
export function registerIpcHandlers(ipcMain: IpcMainLike, deps: IpcHandlerDeps): () => void {
  const { session, config, logger } = deps;
  const openEndSession = (url: string) =>
    deps.openEndSession(url).catch((error: unknown) => {
      logger?.warn('could not open the provider sign-out page', { error: toErrorInfo(error).message });
    });
  const handlers: Handlers = {
    'auth:get-state': async () => session.getState(),
    'auth:sign-in': () => session.signIn(),
    'auth:device-sign-in': () => session.signIn({ method: 'device' }),
    'auth:offers-device-sign-in': () => session.offersDeviceSignIn(),
    'auth:copy-user-code': async () => {
      const code = session.getState().deviceCode?.userCode;
      if (!code) throw new AuthError('invalid_argument', 'No sign-in code is waiting to be entered.');
      deps.copyText(code);
    },
    'auth:cancel-sign-in': async () => session.cancelSignIn(),
    'auth:sign-out': async () => {
      const { endSessionUrl } = await session.signOut();
      if (endSessionUrl) await openEndSession(endSessionUrl);
      return session.getState();
    },
    'auth:add-account': () => session.signIn({ adding: true }),
    'auth:switch-account': (account) => session.switchAccount(account),
    'auth:sign-out-all': async () => {
      const results = await session.signOutAll();
      // The provider's browser session is one for all its users: its end-session page once.
      const endSessionUrl = results.find((result) => result.endSessionUrl !== undefined)?.endSessionUrl;
      if (endSessionUrl) await openEndSession(endSessionUrl);
      return session.getState();
    },
    'auth:get-access-token': () => session.getAccessToken(),
    'auth:refresh-access-token': (rejectedToken) => session.refreshAccessToken(rejectedToken),
    'auth:request-headers': (request) => session.requestHeaders(request),
    'auth:step-up': async (challenge) => {
      // Main reads the challenge itself: the page relays the API's words, it does not choose what the sign-in asks for beyond them.
      const stepUp = parseStepUpChallenge(challenge);
      if (!stepUp) throw new AuthError('invalid_argument', 'The API asked for no stronger sign-in (its answer is not an insufficient_user_authentication or insufficient_claims challenge).');
      return session.signIn({ stepUp });
    },
    'auth:retry-keychain': (mode) => session.retryKeychain(mode),
    // The picture of the user main knows (never an address the page names): a provider's data: image as it is, an https one fetched here.
    'auth:profile-picture': async () => {
      const picture = session.getState().user?.picture;
      if (picture === undefined) return null;
      if (picture.startsWith('data:')) return DATA_IMAGE.test(picture) && picture.length <= MAX_DATA_PICTURE_LENGTH ? picture : null;
      return (await deps.profilePicture?.(picture)) ?? null;
    },
    'app:get-config': async () => ({ apiBaseUrl: config.apiBaseUrl, issuer: config.issuer, apis: config.apis.map(({ name, baseUrl }) => ({ name, baseUrl })) }),
  };

  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, ...args) => invokeChecked(channel, handlers, event, args, logger));
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}

async function invokeChecked<C extends InvokeChannel>(
  channel: C,
  handlers: Handlers,
  event: IpcInvokeEventLike,
  args: readonly unknown[],
  logger: Logger | undefined,
): Promise<IpcResult<Awaited<ReturnType<InvokeChannels[C]>>>> {
  if (!isTrustedSender(event.senderFrame)) {
    logger?.warn('refused an IPC call from a foreign frame', { channel, url: event.senderFrame?.url ?? null });
    return { ok: false, error: SENDER_REFUSED };
  }
  try {
    const parsed = ARGUMENT_PARSERS[channel](args);
    const handler = handlers[channel] as (...a: typeof parsed) => ReturnType<InvokeChannels[C]>;
    return { ok: true, value: redactedForWindow((await handler(...parsed)) as Awaited<ReturnType<InvokeChannels[C]>>) };
  } catch (error) {
    const info = toErrorInfo(error);
    if (info.code !== 'internal_error') return redactedForWindow({ ok: false, error: info });
    // Unexpected failures may carry paths or internals: the log gets them, the page a plain sentence.
    logger?.error('IPC handler failed', { channel, error: info.message });
    return { ok: false, error: INTERNAL_ERROR };
  }
}
