import { readFileSync } from 'node:fs';
import type { StandsOn, UserProfile } from '../../shared/auth-state.ts';
import type { AuthConfig } from '../config/auth-config.ts';
import { keychainAccount } from '../entry/format.ts';
import { assertPrivateFolder } from '../entry/lock-folder.ts';
import { entryLockPath, withEntryLock } from '../entry/lock.ts';
import { writeFileAtomically } from '../entry/profile-cache.ts';
import type { Logger } from '../../shared/logger.ts';

/** One account as the index knows it: no secret, only who it is and where its keychain entry is. */
export interface AccountRecord {
  /** The provider's identifier of the user (OpenID Connect `sub`; GitHub's numeric id): what an account is keyed by. */
  sub: string;
  /** What people and `--account` call it (see account-names.ts). */
  name: string;
  user: UserProfile;
  /** The keychain account of its entry (see `entryNameFor`). */
  entry: string;
  standsOn?: StandsOn;
}

/** The index as read: every account, and the default's `sub` (undefined when there is none). */
export interface AccountList {
  accounts: AccountRecord[];
  defaultSub: string | undefined;
}

/** The accounts at the configured provider (issuer, client, keychain service), as one file beside the locks. */
export interface AccountIndex {
  /** The index file (watched by the app, so accounts the CLI adds or removes show up). */
  readonly path: string;
  /** The file, read now (no lock: it is always replaced whole). A missing or unreadable file is no accounts. */
  read(): AccountList;
  /** Under the index's lock: adds or updates `record`; `makeDefault` makes it the default (the first account is the default anyway). */
  put(record: AccountRecord, makeDefault: boolean): Promise<AccountList>;
  /** Under the index's lock: removes the account of `sub`; the default passes to the first account left, if any. */
  remove(sub: string): Promise<AccountList>;
  /** Under the index's lock: the account of `sub`, if it is still there, stands on nothing now (its session ended at the provider). */
  markEnded(sub: string): Promise<AccountList>;
  /** Under the index's lock: makes `sub`'s account the default; false when there is no such account. */
  setDefault(sub: string): Promise<boolean>;
  /**
   * The keychain account a new account of `sub` is stored under: the one earlier versions used (`clientId@issuer`)
   * while no account has it — so a single account stays where a downgrade or an older app finds it — else one of its own.
   */
  entryNameFor(sub: string, list?: AccountList): string;
  /** The keychain account of `sub`'s own entry (`clientId@issuer#sub:SUB`), never the shared first one. */
  ownEntryName(sub: string): string;
}

interface IndexFile {
  v: 1;
  default?: string;
  accounts: AccountRecord[];
}

/**
 * The account index for `config` in `lockDir` (the per-user lock folder, see lock-folder.ts): not the data
 * folder, which processes of one user may set differently — two of them must still agree on the accounts and the
 * default. A name and an email are personal data: the folder is private (0700) and the file written 0600.
 */
export function openAccountIndex(config: Pick<AuthConfig, 'keychainService' | 'clientId' | 'issuer'>, lockDir: string, logger?: Logger): AccountIndex {
  const base = keychainAccount(config);
  const lockPath = entryLockPath(lockDir, config.keychainService, `${base}#accounts`);
  const path = lockPath.replace(/\.lock$/, '.accounts.json');

  const read = (): AccountList => {
    const file = readIndexFile(path);
    const defaultSub = file.accounts.some((account) => account.sub === file.default) ? file.default : file.accounts[0]?.sub;
    return { accounts: file.accounts, defaultSub };
  };

  const change = (update: (file: IndexFile) => void): Promise<AccountList> =>
    withEntryLock(
      lockPath,
      async () => {
        const file = readIndexFile(path);
        update(file);
        if (!file.accounts.some((account) => account.sub === file.default)) {
          if (file.accounts[0]) file.default = file.accounts[0].sub;
          else delete file.default;
        }
        assertPrivateFolder(lockDir);
        writeFileAtomically(path, JSON.stringify(file, undefined, '\t'));
        return read();
      },
      logger ? { logger } : {},
    );

  return {
    path,
    read,
    put: (record, makeDefault) =>
      change((file) => {
        const at = file.accounts.findIndex((account) => account.sub === record.sub);
        if (at >= 0) file.accounts[at] = record;
        else file.accounts.push(record);
        if (makeDefault || file.default === undefined) file.default = record.sub;
      }),
    remove: (sub) =>
      change((file) => {
        file.accounts = file.accounts.filter((account) => account.sub !== sub);
      }),
    markEnded: (sub) =>
      change((file) => {
        for (const account of file.accounts) if (account.sub === sub) delete account.standsOn;
      }),
    async setDefault(sub) {
      let found = false;
      await change((file) => {
        found = file.accounts.some((account) => account.sub === sub);
        if (found) file.default = sub;
      });
      return found;
    },
    entryNameFor(sub, list = read()) {
      const own = list.accounts.find((account) => account.sub === sub);
      if (own) return own.entry;
      return list.accounts.some((account) => account.entry === base) ? `${base}#sub:${sub}` : base;
    },
    ownEntryName: (sub) => `${base}#sub:${sub}`,
  };
}

function readIndexFile(path: string): IndexFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { v: 1, accounts: [] };
  }
  try {
    const parsed = JSON.parse(text) as Partial<IndexFile>;
    const accounts = Array.isArray(parsed.accounts) ? parsed.accounts.filter(isRecord) : [];
    return { v: 1, accounts, ...(typeof parsed.default === 'string' ? { default: parsed.default } : {}) };
  } catch {
    return { v: 1, accounts: [] };
  }
}

function isRecord(value: unknown): value is AccountRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<AccountRecord>;
  return typeof record.sub === 'string' && typeof record.name === 'string' && typeof record.entry === 'string' && typeof record.user === 'object' && record.user !== null;
}
