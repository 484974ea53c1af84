import { createCipheriv, createDecipheriv, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AuthError } from '../errors.ts';
import type { Keychain } from './keychain.ts';

// A keychain in one file: sealed with a passphrase (the agent's `--keep FILE`), or in plaintext when a person named
// one (LATCHKEY_INSECURE_PLAINTEXT_FILE). Every write replaces the whole file atomically before `set` resolves, so a
// rotated refresh token is on disk before it is used (RFC 9700 §4.14.2), as with the OS keychain.

/** scrypt's cost (N = 2^15, r = 8, p = 1: about 32 MiB and 0.1 s), per OWASP's password storage cheat sheet. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const FORMAT = 'latchkey-sealed-v1';

interface SealedFile {
  format: typeof FORMAT;
  kdf: { name: 'scrypt'; salt: string; N: number; r: number; p: number };
  /** A value derived from the passphrase beside the key, so a wrong passphrase is told from a damaged file. */
  check: string;
  iv: string;
  tag: string;
  data: string;
}

/** What opens or seals a file's secrets: a passphrase's key, or nothing (plaintext). */
interface Codec {
  open(text: string): Record<string, string>;
  seal(secrets: Record<string, string>): string;
}

/**
 * The keychain kept in `file`, sealed with a key derived from `passphrase` (scrypt, AES-256-GCM). A missing file is
 * an empty keychain (created on the first write); a wrong passphrase, or a file that is not such a file or was
 * damaged, is refused (`keychain_refused`, `config_invalid`) and the file is left as it is.
 */
export async function openSealedKeychain(file: string, passphrase: string): Promise<Keychain> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new AuthError('config_invalid', `The kept file ${file} cannot be read: ${error.message}.`, { cause: error });
  });
  const sealed = text === undefined ? undefined : parseSealed(file, text);
  const salt = sealed ? Buffer.from(sealed.kdf.salt, 'base64') : randomBytes(16);
  const derived = await new Promise<Buffer>((resolve, reject) =>
    scrypt(passphrase.normalize('NFC'), salt, 64, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
  const key = derived.subarray(0, 32);
  const check = derived.subarray(32);
  const codec: Codec = {
    open(raw) {
      const found = parseSealed(file, raw);
      const given = Buffer.from(found.check, 'base64');
      if (given.length !== check.length || !timingSafeEqual(given, check)) {
        throw new AuthError('keychain_refused', `Wrong passphrase for ${file}: the agent did not start, and the file is unchanged. Start it again with the passphrase the file was kept with.`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(found.iv, 'base64'));
        decipher.setAAD(Buffer.from(FORMAT));
        decipher.setAuthTag(Buffer.from(found.tag, 'base64'));
        const plain = Buffer.concat([decipher.update(Buffer.from(found.data, 'base64')), decipher.final()]);
        return secretsOf(file, plain.toString('utf8'));
      } catch (error) {
        if (error instanceof AuthError) throw error;
        throw damaged(file, 'its contents do not match their seal');
      }
    },
    seal(secrets) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(FORMAT));
      const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
      const out: SealedFile = {
        format: FORMAT,
        kdf: { name: 'scrypt', salt: salt.toString('base64'), N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p },
        check: check.toString('base64'),
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      };
      return JSON.stringify(out) + '\n';
    },
  };
  return fileKeychain(file, codec, text === undefined ? {} : codec.open(text), 'agent');
}

/**
 * The keychain in `file` as plain JSON, readable by anyone who can read the file: only when a person named it
 * (LATCHKEY_INSECURE_PLAINTEXT_FILE), and every command then says so.
 */
export async function openPlaintextKeychain(file: string): Promise<Keychain> {
  const codec: Codec = { open: (raw) => secretsOf(file, raw), seal: (secrets) => JSON.stringify(secrets) + '\n' };
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new AuthError('config_invalid', `LATCHKEY_INSECURE_PLAINTEXT_FILE: ${file} cannot be read: ${error.message}.`, { cause: error });
  });
  return fileKeychain(file, codec, text === undefined ? {} : codec.open(text), 'plaintext-file');
}

function fileKeychain(file: string, codec: Codec, initial: Record<string, string>, kind: 'agent' | 'plaintext-file'): Keychain {
  const secrets = new Map(Object.entries(initial));
  // One write at a time, in order: the last `set` is what the file ends with.
  let writing: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const text = codec.seal(Object.fromEntries(secrets));
    writing = writing.catch(() => {}).then(() => writeFileAtomic(file, text));
    return writing.catch((error: unknown) => {
      throw new AuthError('keychain_unavailable', `The session could not be written to ${file}: ${(error as Error).message}.`, { cause: error });
    });
  };
  return {
    kind,
    get: async (account) => secrets.get(account) ?? null,
    set: async (account, secret) => {
      secrets.set(account, secret);
      await persist();
    },
    delete: async (account) => {
      if (!secrets.delete(account)) return;
      await persist();
    },
  };
}

function parseSealed(file: string, text: string): SealedFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged(file, 'it is not a file Latchkey kept');
  }
  const sealed = parsed as Partial<SealedFile> | null;
  const fields = [sealed?.check, sealed?.iv, sealed?.tag, sealed?.data, sealed?.kdf?.salt];
  if (sealed?.format !== FORMAT || sealed.kdf?.name !== 'scrypt' || fields.some((field) => typeof field !== 'string')) {
    throw damaged(file, 'it is not a file Latchkey kept, or it was damaged');
  }
  if (sealed.kdf.N !== SCRYPT.N || sealed.kdf.r !== SCRYPT.r || sealed.kdf.p !== SCRYPT.p) throw damaged(file, 'it was sealed with other scrypt settings');
  return sealed as SealedFile;
}

function secretsOf(file: string, text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged(file, 'its contents are not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((value) => typeof value !== 'string')) throw damaged(file, 'its contents are not sessions');
  return parsed as Record<string, string>;
}

function damaged(file: string, why: string): AuthError {
  return new AuthError('config_invalid', `${file} cannot be opened: ${why}. It was left as it is; move it away to start without it.`);
}

/** Replaces `file` so a crash leaves the old or the new content, never a torn one: a 0600 temp file beside it, fsynced, renamed over it. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (process.platform === 'win32') return;
  const folder = await open(dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
