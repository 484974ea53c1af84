import { AuthError } from './errors.ts';
import type { Logger } from './log.ts';

/**
 * Where the refresh token lives. Three calls behind an interface, so the
 * session never knows whether it talks to the OS keychain or to memory, and
 * tests can hand in a store of their own.
 */
export interface SecretStore {
  readonly kind: 'os' | 'memory-only';
  /** Why the OS keychain is not used, in words a user can act on (memory-only stores only). */
  readonly reason?: string;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<void>;
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

const PROBE_ACCOUNT = 'latchkey-probe';
const DEFAULT_TIMEOUT_MS = 5_000;

/** A store that forgets everything when the process ends: the fallback when no keychain is usable, and a test double. */
export function createMemoryStore(reason?: string): SecretStore {
  const secrets = new Map<string, string>();
  return {
    kind: 'memory-only',
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
 * When keytar cannot load, no Secret Service answers, or the keychain is
 * locked, this resolves to a memory-only store whose `reason` says so — the
 * session keeps working until the app quits, and the user is told. It never
 * falls back to a file: a refresh token on disk in plaintext is what the
 * keychain exists to prevent (RFC 8252 §8.6, RFC 9700 §4.14).
 */
export async function openKeychain(
  service: string,
  options: { logger?: Logger; timeoutMs?: number; loadKeytar?: () => Promise<Keytar> } = {},
): Promise<SecretStore> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fallBack = (reason: string, cause: unknown) => {
    options.logger?.warn('keychain unavailable, keeping the session in memory only', {
      reason,
      cause: cause instanceof Error ? cause.message : String(cause),
    });
    return createMemoryStore(reason);
  };

  let keytar: Keytar;
  try {
    keytar = await (options.loadKeytar ?? loadKeytar)();
  } catch (error) {
    return fallBack('The OS keychain could not be loaded (keytar failed to load), so your session won’t survive a restart.', error);
  }
  try {
    // A harmless read: fails when there is no Secret Service, hangs or fails when the keychain is locked.
    await withTimeout(keytar.getPassword(service, PROBE_ACCOUNT), timeoutMs);
  } catch (error) {
    return fallBack(
      'The OS keychain is not available (no Secret Service running, or the keychain is locked), so your session won’t survive a restart.',
      error,
    );
  }
  return keytarStore(keytar, service, timeoutMs);
}

function keytarStore(keytar: Keytar, service: string, timeoutMs: number): SecretStore {
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
    get: (account) => call('read', () => keytar.getPassword(service, account)),
    set: (account, secret) => call('store', () => keytar.setPassword(service, account, secret)),
    delete: async (account) => void (await call('delete', () => keytar.deletePassword(service, account))),
  };
}

async function loadKeytar(): Promise<Keytar> {
  const module = (await import('keytar')) as unknown as { default?: Keytar } & Keytar;
  return module.default ?? module;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
