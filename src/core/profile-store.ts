import { mkdirSync } from 'node:fs';
import Conf from 'conf';
import type { UserProfile } from '../shared/auth-state.ts';
import { AuthError } from './errors.ts';

/** What is remembered about a session outside the keychain. Never a token: this lands on disk in plain JSON. */
export interface CachedProfile {
  user: UserProfile;
  /** Epoch ms of the last interactive sign-in. */
  lastSignInAt: number;
}

/** Non-secret session state per keychain account, so a restarted app can show who is signed in before any network call. */
export interface ProfileStore {
  get(account: string): CachedProfile | undefined;
  set(account: string, profile: CachedProfile): void;
  delete(account: string): void;
}

type ProfileFile = Record<string, CachedProfile>;

/**
 * The profile cache as `profile.json` in `dataDir`, written atomically by
 * `conf` (electron-store's base, so the app and the CLI share one file).
 * Only the fields of `UserProfile` are kept, whatever the caller passes.
 * A name and an email are personal data: the folder is created private to
 * the user (0700) and the file written 0600.
 */
export function openProfileStore(dataDir: string, options: { configName?: string } = {}): ProfileStore {
  let conf: Conf<ProfileFile>;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    conf = new Conf<ProfileFile>({
      cwd: dataDir,
      configFileMode: 0o600,
      configName: options.configName ?? 'profile',
      // Accounts look like `client@https://issuer.example/` — dots are not paths.
      accessPropertiesByDotNotation: false,
      clearInvalidConfig: true,
    });
  } catch (error) {
    throw new AuthError('config_invalid', `The data folder ${dataDir} cannot be used (${(error as Error).message}). Set AUTH_DATA_DIR to a folder you can write to.`, { cause: error });
  }
  return {
    get: (account) => parseProfile(conf.get(account)),
    set: (account, profile) => conf.set(account, { user: pickProfile(profile.user), lastSignInAt: profile.lastSignInAt }),
    delete: (account) => conf.delete(account),
  };
}

/** A profile cache that lives as long as the process: for tests and tools that must leave no files. */
export function createMemoryProfileStore(): ProfileStore {
  const profiles = new Map<string, CachedProfile>();
  return {
    get: (account) => profiles.get(account),
    set: (account, profile) => void profiles.set(account, { user: pickProfile(profile.user), lastSignInAt: profile.lastSignInAt }),
    delete: (account) => void profiles.delete(account),
  };
}

function pickProfile(user: UserProfile): UserProfile {
  const picked: UserProfile = { sub: user.sub };
  if (typeof user.name === 'string') picked.name = user.name;
  if (typeof user.email === 'string') picked.email = user.email;
  if (typeof user.picture === 'string') picked.picture = user.picture;
  return picked;
}

function parseProfile(value: unknown): CachedProfile | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, lastSignInAt } = value as Partial<CachedProfile>;
  if (typeof user !== 'object' || user === null || typeof user.sub !== 'string') return undefined;
  return { user: pickProfile(user), lastSignInAt: typeof lastSignInAt === 'number' ? lastSignInAt : 0 };
}
