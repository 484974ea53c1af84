import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { UserProfile } from '../../shared/auth-state.ts';
import { AuthError } from '../errors.ts';

/** What is remembered about a session outside the keychain. Never a token: this lands on disk in plain JSON. */
export interface CachedProfile {
  user: UserProfile;
  /** Epoch ms of the last interactive sign-in. */
  lastSignInAt: number;
}

/** Non-secret session state per keychain account, so a restarted app can show who is signed in before any network call. */
export interface ProfileCache {
  get(account: string): CachedProfile | undefined;
  set(account: string, profile: CachedProfile): void;
  delete(account: string): void;
}

type ProfileFile = Record<string, unknown>;

/**
 * The profile cache as `profile.json` in `dataDir`: one JSON object keyed by
 * keychain account (`client@https://issuer.example/`), tab-indented — the file
 * earlier versions wrote through `conf`, read and written here with plain `fs`
 * so the CLI never loads a schema validator to start. Every read looks at the
 * file (the app and CLI processes share it); a write replaces it atomically
 * (a temporary file renamed over it). A file that is not a JSON object reads
 * as empty and is replaced on the next write. Only the fields of `UserProfile`
 * are kept, whatever the caller passes. A name and an email are personal data:
 * the folder is created private to the user (0700) and the file written 0600.
 */
export function openProfileCache(dataDir: string, options: { configName?: string } = {}): ProfileCache {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AuthError('config_invalid', `The data folder ${dataDir} cannot be used (${(error as Error).message}). Set AUTH_DATA_DIR to a folder you can write to.`, { cause: error });
  }
  const path = join(dataDir, `${options.configName ?? 'profile'}.json`);
  const update = (change: (profiles: ProfileFile) => void) => {
    const profiles = readProfileFile(path);
    change(profiles);
    writeFileAtomically(path, JSON.stringify(profiles, undefined, '\t'));
  };
  return {
    get: (account) => {
      const profiles = readProfileFile(path);
      return Object.hasOwn(profiles, account) ? parseProfile(profiles[account]) : undefined;
    },
    set: (account, profile) => update((profiles) => void (profiles[account] = { user: pickProfile(profile.user), lastSignInAt: profile.lastSignInAt })),
    delete: (account) => update((profiles) => void delete profiles[account]),
  };
}

function readProfileFile(path: string): ProfileFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as ProfileFile) : {};
  } catch {
    return {};
  }
}

/** Replaces `path` with `text` (0600) through a temporary file renamed over it: a reader sees the old file or the new one, never half. */
export function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A profile cache that lives as long as the process: for tests and tools that must leave no files. */
export function createMemoryProfileCache(): ProfileCache {
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
  if (typeof user.username === 'string') picked.username = user.username;
  if (typeof user.picture === 'string') picked.picture = user.picture;
  return picked;
}

function parseProfile(value: unknown): CachedProfile | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, lastSignInAt } = value as Partial<CachedProfile>;
  if (typeof user !== 'object' || user === null || typeof user.sub !== 'string') return undefined;
  return { user: pickProfile(user), lastSignInAt: typeof lastSignInAt === 'number' ? lastSignInAt : 0 };
}
