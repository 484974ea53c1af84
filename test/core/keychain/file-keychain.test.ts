// The keychain in one file: sealed with a passphrase (`latchkey agent --keep FILE`) or plain when a person named one.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPlaintextKeychain, openSealedKeychain } from '../../../src/core/keychain/file-keychain.ts';

describe('a keychain sealed in a file', () => {
  let folder: string;
  let file: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'latchkey-sealed-'));
    file = join(folder, 'kept');
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('a write is in the file, sealed and 0600, before set resolves; the right passphrase opens it again', async () => {
    const keychain = await openSealedKeychain(file, 'correct horse');
    expect(keychain.kind).toBe('agent');
    await keychain.set('client@issuer', 'a-secret-refresh-token-value');
    // A rotated token is on disk once set resolves: reopening the file now finds it.
    expect(await (await openSealedKeychain(file, 'correct horse')).get('client@issuer')).toBe('a-secret-refresh-token-value');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain('a-secret-refresh-token-value');
    await keychain.delete('client@issuer');
    expect(await (await openSealedKeychain(file, 'correct horse')).get('client@issuer')).toBeNull();
  });

  it('a wrong passphrase is said as such and the file is left as it was', async () => {
    await (await openSealedKeychain(file, 'correct horse')).set('a', 'secret');
    const before = await readFile(file, 'utf8');
    await expect(openSealedKeychain(file, 'wrong horse')).rejects.toMatchObject({ code: 'keychain_refused', message: expect.stringMatching(/^Wrong passphrase for /) });
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('a damaged file, or one that is not a sealed file, is refused and never overwritten', async () => {
    await (await openSealedKeychain(file, 'correct horse')).set('a', 'secret');
    const sealed = JSON.parse(await readFile(file, 'utf8')) as { tag: string };
    const tag = Buffer.from(sealed.tag, 'base64');
    tag[0] = tag[0]! ^ 1;
    const damaged = JSON.stringify({ ...sealed, tag: tag.toString('base64') });
    await writeFile(file, damaged);
    await expect(openSealedKeychain(file, 'correct horse')).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('its contents do not match their seal') });
    expect(await readFile(file, 'utf8')).toBe(damaged);
    await writeFile(file, '{"refresh_token": "plain"}');
    await expect(openSealedKeychain(file, 'correct horse')).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('it is not a file Latchkey kept') });
  });

  it('a write that cannot reach the disk rejects (keychain_unavailable) rather than pretend it was kept', async () => {
    const keychain = await openSealedKeychain(file, 'correct horse');
    // Its folder gone (even root cannot write there).
    await rm(folder, { recursive: true, force: true });
    await expect(keychain.set('a', 'secret')).rejects.toMatchObject({ code: 'keychain_unavailable', message: expect.stringContaining(`could not be written to ${file}`) });
  });

  it('the plaintext file holds the secret as it is, 0600, and is reopened as it was left', async () => {
    const plain = await openPlaintextKeychain(file);
    expect(plain.kind).toBe('plaintext-file');
    await plain.set('a', 'visible');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ a: 'visible' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await (await openPlaintextKeychain(file)).get('a')).toBe('visible');
  });
});
