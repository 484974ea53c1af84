import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fingerprint } from '../../src/core/log.ts';

/** Text a leak check reads: a file's content or a captured output, named for the report. */
export interface Captured {
  name: string;
  text: string;
}

// A compact JWS (access and ID tokens): a JSON header and payload always start "eyJ" in base64url.
const JWT_SHAPE = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/g;
// A private JWK's secret member (RFC 7518 §6.2.2.1 `d`, also RSA's): a DPoP key anywhere but the keychain entry.
const PRIVATE_JWK_MEMBER = /"d"\s*:\s*"[\w-]{20,}"/g;

/** The secrets a session's keychain entry holds — the refresh token and the DPoP private key's `d` — to look for everywhere else. */
export function entrySecrets(raw: string | null): string[] {
  if (raw === null) return [];
  const entry = JSON.parse(raw) as { refresh_token?: string; dpop_key?: { d?: string } };
  return [entry.refresh_token, entry.dpop_key?.d].filter((secret): secret is string => typeof secret === 'string');
}

/**
 * Every file under each of `folders`, recursively, as text. A file that
 * disappears between listing and reading (a lock file released meanwhile) is
 * gone, not a failure; a folder that does not exist has no files.
 */
export async function readFolders(...folders: string[]): Promise<Captured[]> {
  const captured: Captured[] = [];
  for (const folder of folders) {
    const entries = await readdir(folder, { withFileTypes: true, recursive: true }).catch(ignoreGone([]));
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const name = join(entry.parentPath, entry.name);
      const text = await readFile(name, 'utf8').catch(ignoreGone(undefined));
      if (text !== undefined) captured.push({ name, text });
    }
  }
  return captured;
}

/**
 * Where any of `secrets`, anything shaped like a JWT, or a private JWK member (`"d": …`) appears in `places`.
 * Each finding names the place and the secret's fingerprint — never the secret,
 * so a failing test does not print the token it caught. An empty list means no leak.
 */
export function findLeaks(secrets: Iterable<string>, places: Captured[]): string[] {
  const findings: string[] = [];
  const known = [...new Set(secrets)].filter((secret) => secret.length >= 16);
  for (const { name, text } of places) {
    for (const secret of known) {
      if (text.includes(secret)) findings.push(`secret ${fingerprint(secret)} in ${name}`);
    }
    for (const [jwt] of text.matchAll(JWT_SHAPE)) {
      if (!known.includes(jwt)) findings.push(`a JWT ${fingerprint(jwt)} in ${name}`);
    }
    for (const [member] of text.matchAll(PRIVATE_JWK_MEMBER)) findings.push(`a private key member (d) ${fingerprint(member)} in ${name}`);
  }
  return findings;
}

function ignoreGone<T>(fallback: T) {
  return (error: unknown): T => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  };
}
