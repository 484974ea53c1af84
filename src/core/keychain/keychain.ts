import { AuthError } from '../errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { createSecretServiceProbe, type ItemRead, type ItemState, type SecretServiceProbe } from './secret-service.ts';

/** What a locked keychain means for the user; the CLI prints it as it is. */
export const KEYCHAIN_LOCKED_MESSAGE =
  'Your keychain is locked — unlock it (e.g. log in to your desktop session or open your keyring manager) and run the command again; your session is kept.';
export const KEYCHAIN_REFUSED_MESSAGE =
  'Your keychain refused access to the session — allow Latchkey to use it (e.g. choose Allow in the keychain prompt) and run the command again; your session is kept.';

export interface ReadOptions {
  /** False: a locked entry is reported at once instead of asking the keychain to unlock it (which may open a prompt). Default true. */
  prompt?: boolean;
  /** Called once when an unlock prompt has been open a moment: say what is being waited for. */
  onWaiting?: () => void;
}

/**
 * Where the refresh token lives. Three calls behind an interface, so the
 * session never knows whether it talks to the OS keychain or to memory, and
 * tests can hand in a store of their own.
 */
export interface Keychain {
  /** `agent`: a `latchkey agent`'s memory (or the file it was told to keep); `plaintext-file`: a file a person named, unencrypted. */
  readonly kind: 'os' | 'memory-only' | 'agent' | 'plaintext-file';
  /** Why the OS keychain is not used, in words a user can act on (memory-only stores only). */
  readonly reason?: string;
  /** The secret, or null when there is none; rejects with `keychain_locked` when the entry exists but stays locked. */
  get(account: string, options?: ReadOptions): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<void>;
  /** Whether the entry exists and is locked, where the keychain can tell (the Secret Service on Linux); else undefined. */
  itemState?(account: string): Promise<ItemState | undefined>;
  /** Whether a new entry would go into a locked keychain, where the keychain can tell; else undefined. */
  isLocked?(): Promise<boolean | undefined>;
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

const PROBE_ACCOUNT = 'latchkey-probe';
const DEFAULT_TIMEOUT_MS = 5_000;
/** How long a user gets to answer an unlock prompt. */
const DEFAULT_UNLOCK_TIMEOUT_MS = 120_000;
/** A prompt that fails (no display) answers within milliseconds; one still open after this is waiting for the user. */
const WAITING_NOTICE_MS = 300;

interface KeychainOptions {
  logger?: Logger;
  timeoutMs?: number;
  unlockTimeoutMs?: number;
  loadKeytar?: () => Promise<Keytar>;
  /** The Secret Service asked about locks (Linux); tests hand in their own bus. Default: the session bus on Linux, none elsewhere. */
  secretService?: SecretServiceProbe | undefined;
  /** Called when the start-up probe waits on a keychain prompt. */
  onWaiting?: () => void;
  /**
   * The account whose entry will be read first: where the Secret Service is read directly, its read goes out with
   * the opening's question, and the first `get` of it takes that answer. Whoever reads ahead must judge the read's
   * freshness from before this call (see entry.ts's snapshot).
   */
  readAhead?: string;
}

/** A store that forgets everything when the process ends: the fallback when no keychain is usable, a `latchkey agent`'s own store (`agent`), and a test double. */
export function createMemoryKeychain(reason?: string, kind: 'memory-only' | 'agent' = 'memory-only'): Keychain {
  const secrets = new Map<string, string>();
  return {
    kind,
    ...(reason === undefined ? {} : { reason }),
    get: async (account) => secrets.get(account) ?? null,
    set: async (account, secret) => void secrets.set(account, secret),
    delete: async (account) => void secrets.delete(account),
  };
}

/**
 * The OS keychain for `service` (macOS Keychain, Windows Credential Manager,
 * the Secret Service on Linux) through keytar.
 *
 * When keytar cannot load or no keychain answers, this resolves to a
 * memory-only store whose `reason` says so — the session keeps working until
 * the app quits, and the user is told. A keychain that is there but slow to
 * answer is showing a prompt (to unlock, or to create a keyring): the probe
 * waits for the user (`onWaiting`) rather than declaring it unavailable. A
 * locked keychain is no reason for memory only: its entries are reported
 * locked (`keychain_locked`), see session-entry.ts. It never falls back to a
 * file: a refresh token on disk in plaintext is what the keychain exists to
 * prevent (RFC 8252 §8.6, RFC 9700 §4.14).
 */
export async function openKeychain(service: string, options: KeychainOptions = {}): Promise<Keychain> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const unlockTimeoutMs = options.unlockTimeoutMs ?? DEFAULT_UNLOCK_TIMEOUT_MS;
  const secretService = 'secretService' in options ? options.secretService : process.platform === 'linux' ? createSecretServiceProbe() : undefined;
  const fallBack = (reason: string, cause: unknown) => {
    options.logger?.warn('keychain unavailable, keeping the session in memory only', {
      reason,
      cause: cause instanceof Error ? cause.message : String(cause),
    });
    return createMemoryKeychain(reason);
  };

  const load = options.loadKeytar ?? loadKeytar;
  // Where the Secret Service answers on the bus and reads go to it directly (Linux), keytar — libsecret and GLib,
  // whose loading costs a `latchkey token` more than its read — is loaded only once a write, a delete or an unlock
  // needs it; if it cannot load then, that write fails like any other (the session carries on in memory only).
  if (secretService?.read) {
    // Both questions share one connection and go out together.
    const running = secretService.isRunning();
    const ahead = options.readAhead === undefined ? undefined : { account: options.readAhead, found: secretService.read(service, options.readAhead) };
    if (await running) return keytarStore(loadOnce(load), service, { timeoutMs, unlockTimeoutMs, secretService, ahead });
  }
  let keytar: Keytar;
  try {
    keytar = await load();
  } catch (error) {
    return fallBack('The OS keychain could not be loaded (keytar failed to load), so your session won’t survive a restart.', error);
  }
  const unavailable = 'The OS keychain is not available (no Secret Service running, or the keychain is locked), so your session won’t survive a restart.';
  // A harmless read: fails when there is no Secret Service; hangs while the keychain shows a prompt (to unlock it, or to create one).
  const probing = keytar.getPassword(service, PROBE_ACCOUNT);
  try {
    await withTimeout(probing, timeoutMs);
  } catch (error) {
    // A slow answer from a keychain that is there is a prompt waiting for the user, not a missing keychain.
    const promptMayBeOpen = error instanceof KeychainTimeout && (secretService ? await secretService.isRunning() : process.platform !== 'linux');
    if (!promptMayBeOpen) return fallBack(unavailable, error);
    options.logger?.info('waiting for the keychain (a prompt may be open)');
    options.onWaiting?.();
    try {
      await withTimeout(probing, unlockTimeoutMs);
    } catch (waitError) {
      return fallBack(unavailable, waitError);
    }
  }
  return keytarStore(async () => keytar, service, { timeoutMs, unlockTimeoutMs, secretService });
}

/** `load` on first use, once; a failure says it was keytar that failed. */
function loadOnce(load: () => Promise<Keytar>): () => Promise<Keytar> {
  let loading: Promise<Keytar> | undefined;
  return () => (loading ??= load().catch((error: unknown) => Promise.reject(new Error(`keytar failed to load (${messageOf(error)})`, { cause: error }))));
}

function keytarStore(
  keytar: () => Promise<Keytar>,
  service: string,
  options: { timeoutMs: number; unlockTimeoutMs: number; secretService: SecretServiceProbe | undefined; ahead?: { account: string; found: Promise<ItemRead | undefined> } | undefined },
): Keychain {
  const { timeoutMs, unlockTimeoutMs, secretService } = options;
  /** The read begun while opening, for the first read of its account only. */
  let ahead = options.ahead;
  const call = async <T>(what: string, operation: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(operation(), timeoutMs);
    } catch (error) {
      throw new AuthError('keychain_unavailable', `The OS keychain refused to ${what} the session: ${messageOf(error)}`, {
        cause: error,
      });
    }
  };
  return {
    kind: 'os',
    async get(account, readOptions = {}) {
      // One read over the Secret Service's D-Bus API where it can (Linux): the secret, or that there is none, or that it is locked.
      const early = ahead?.account === account ? ahead.found : undefined;
      ahead = undefined;
      const found = await (early ?? secretService?.read?.(service, account));
      if (found?.state === 'unlocked') return found.secret;
      if (found?.state === 'absent') return null;
      const state = found?.state ?? (await secretService?.itemState(service, account));
      if (state !== 'locked') return call('read', async () => (await keytar()).getPassword(service, account));
      if (readOptions.prompt === false) throw new AuthError('keychain_locked', KEYCHAIN_LOCKED_MESSAGE);
      return readLocked(keytar().then((loaded) => loaded.getPassword(service, account)), unlockTimeoutMs, readOptions.onWaiting);
    },
    set: (account, secret) => call('store', async () => (await keytar()).setPassword(service, account, secret)),
    delete: async (account) => void (await call('delete', async () => (await keytar()).deletePassword(service, account))),
    ...(secretService
      ? {
          itemState: (account: string) => secretService.itemState(service, account),
          isLocked: () => secretService.defaultCollectionLocked(),
        }
      : {}),
  };
}

/** libsecret asks the Secret Service to unlock a locked entry (a prompt on a desktop) and yields null when the prompt is dismissed or cannot be shown. */
async function readLocked(reading: Promise<string | null>, timeoutMs: number, onWaiting: (() => void) | undefined): Promise<string> {
  const notice = setTimeout(() => onWaiting?.(), WAITING_NOTICE_MS);
  notice.unref();
  try {
    const secret = await withTimeout(reading, timeoutMs);
    if (secret !== null) return secret;
  } catch (error) {
    throw new AuthError('keychain_locked', KEYCHAIN_LOCKED_MESSAGE, { cause: error });
  } finally {
    clearTimeout(notice);
  }
  throw new AuthError('keychain_locked', KEYCHAIN_LOCKED_MESSAGE);
}

async function loadKeytar(): Promise<Keytar> {
  const module = (await import('keytar')) as unknown as { default?: Keytar } & Keytar;
  return module.default ?? module;
}

class KeychainTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeychainTimeout(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
