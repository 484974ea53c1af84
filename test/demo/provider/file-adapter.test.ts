import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/demo/atomic-file.ts';
import { FileStore } from '../../../src/demo/provider/file-adapter.ts';

describe('demo provider file store', () => {
  let directory: string;
  let now: number;
  const clock = () => now;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'latchkey-store-'));
    now = Date.UTC(2030, 0, 1);
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('entries survive reopening the store, and expired ones are gone', async () => {
    const store = await FileStore.open(directory, { now: clock });
    const tokens = store.adapterFor('RefreshToken');
    await tokens.upsert('long', { grantId: 'g1', accountId: 'alice' }, 60);
    await tokens.upsert('short', { grantId: 'g1', accountId: 'alice' }, 1);
    await store.adapterFor('Session').upsert('s1', { uid: 'u1', accountId: 'alice' });

    now += 2_000;
    const reopened = await FileStore.open(directory, { now: clock });
    expect(await reopened.adapterFor('RefreshToken').find('long')).toMatchObject({ accountId: 'alice' });
    expect(await reopened.adapterFor('RefreshToken').find('short')).toBeUndefined();
    expect(await reopened.adapterFor('Session').findByUid('u1')).toMatchObject({ accountId: 'alice' });
  });

  it('consume marks an entry used and revokeByGrantId removes every entry of the grant, durably', async () => {
    const store = await FileStore.open(directory, { now: clock });
    const tokens = store.adapterFor('RefreshToken');
    await tokens.upsert('a', { grantId: 'g1' }, 60);
    await tokens.upsert('b', { grantId: 'g1' }, 60);
    await tokens.upsert('c', { grantId: 'g2' }, 60);
    await tokens.consume('a');
    expect((await tokens.find('a'))?.consumed).toBe(Math.floor(now / 1000));

    await tokens.revokeByGrantId('g1');
    const reopened = (await FileStore.open(directory, { now: clock })).adapterFor('RefreshToken');
    expect(await reopened.find('a')).toBeUndefined();
    expect(await reopened.find('b')).toBeUndefined();
    expect(await reopened.find('c')).toMatchObject({ grantId: 'g2' });
  });

  it('many concurrent writes leave one complete file and no temp files', async () => {
    const store = await FileStore.open(directory, { now: clock });
    const grants = store.adapterFor('Grant');
    await Promise.all(Array.from({ length: 50 }, (_, i) => grants.upsert(`g${i}`, { n: i }, 60)));
    await store.flush();
    expect(await readdir(directory)).toEqual(['Grant.json']);
    expect(Object.keys(JSON.parse(await readFile(join(directory, 'Grant.json'), 'utf8')) as object)).toHaveLength(50);
  });

  it('a temp file left by a crash mid-write is ignored and the last complete state is read', async () => {
    const store = await FileStore.open(directory, { now: clock });
    await store.adapterFor('Grant').upsert('g1', { accountId: 'bob' }, 60);
    await writeFile(join(directory, '.Grant.json.999.deadbeef.tmp'), '{"g1": {"payl');
    const reopened = await FileStore.open(directory, { now: clock });
    expect(await reopened.adapterFor('Grant').find('g1')).toMatchObject({ accountId: 'bob' });
  });

  it('writeFileAtomic replaces the content and leaves only the target file', async () => {
    const file = join(directory, 'keys.json');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, 'second');
    expect(await readFile(file, 'utf8')).toBe('second');
    expect(await readdir(directory)).toEqual(['keys.json']);
  });
});
