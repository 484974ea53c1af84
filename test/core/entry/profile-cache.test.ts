import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProfileCache } from '../../../src/core/entry/profile-cache.ts';

describe('openProfileCache', () => {
  let dataDir: string;
  const account = 'latchkey-desktop@http://127.0.0.1:4400/';
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-profile-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('remembers the profile across store instances (an app restart) under an account with dots in it', () => {
    const profile = { user: { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.com' }, lastSignInAt: 1234 };
    openProfileCache(dataDir).set(account, profile);
    expect(openProfileCache(dataDir).get(account)).toEqual(profile);
    expect(openProfileCache(dataDir).get('other@issuer')).toBeUndefined();
  });

  it('keeps only the profile fields, so nothing secret can slip onto disk', async () => {
    const user = { sub: 'alice', name: 'Alice', refresh_token: 'rt-should-not-be-here' } as { sub: string; name: string };
    openProfileCache(dataDir).set(account, { user, lastSignInAt: 1 });
    const file = await readFile(join(dataDir, 'profile.json'), 'utf8');
    expect(file).not.toContain('rt-should-not-be-here');
    expect(openProfileCache(dataDir).get(account)?.user).toEqual({ sub: 'alice', name: 'Alice' });
  });

  it.skipIf(process.platform === 'win32')('creates the data folder private to the user and writes the profile 0600', async () => {
    const folder = join(dataDir, 'Latchkey');
    openProfileCache(folder).set(account, { user: { sub: 'alice', email: 'alice@example.com' }, lastSignInAt: 1 });
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    expect((await stat(join(folder, 'profile.json'))).mode & 0o777).toBe(0o600);
  });

  it('forgets a deleted profile', () => {
    const store = openProfileCache(dataDir);
    store.set(account, { user: { sub: 'bob' }, lastSignInAt: 1 });
    store.delete(account);
    expect(openProfileCache(dataDir).get(account)).toBeUndefined();
  });

  it('reads and updates a profile.json written by conf (the store earlier versions and electron-store use), keeping its other accounts', async () => {
    const { default: Conf } = await import('conf');
    const earlier = new Conf<Record<string, unknown>>({ cwd: dataDir, configName: 'profile', configFileMode: 0o600, accessPropertiesByDotNotation: false });
    earlier.set(account, { user: { sub: 'alice', name: 'Alice' }, lastSignInAt: 42 });
    earlier.set('other@https://issuer.example/', { user: { sub: 'bob' }, lastSignInAt: 7 });
    const store = openProfileCache(dataDir);
    expect(store.get(account)).toEqual({ user: { sub: 'alice', name: 'Alice' }, lastSignInAt: 42 });
    store.set(account, { user: { sub: 'alice', email: 'alice@example.com' }, lastSignInAt: 43 });
    expect(earlier.get(account)).toEqual({ user: { sub: 'alice', email: 'alice@example.com' }, lastSignInAt: 43 });
    expect(earlier.get('other@https://issuer.example/')).toEqual({ user: { sub: 'bob' }, lastSignInAt: 7 });
  });

  it('reads a damaged profile.json as empty and replaces it on the next write, leaving no temporary file', async () => {
    await writeFile(join(dataDir, 'profile.json'), '{"half a file');
    const store = openProfileCache(dataDir);
    expect(store.get(account)).toBeUndefined();
    store.set(account, { user: { sub: 'alice' }, lastSignInAt: 1 });
    expect(JSON.parse(await readFile(join(dataDir, 'profile.json'), 'utf8'))).toEqual({ [account]: { user: { sub: 'alice' }, lastSignInAt: 1 } });
    expect(await readdir(dataDir)).toEqual(['profile.json']);
  });
});
