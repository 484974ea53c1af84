// A keychain that reads the session's entry while it opens (one round trip less for `latchkey token`) reads it before
// the restore looks at the entry's generation: the restore must judge that read by a generation seen before it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { openSessionEntry, takeEntrySnapshot } from '../../../src/core/entry/entry.ts';
import { keychainAccount } from '../../../src/core/entry/format.ts';
import { announceEntryChange, entryLockPath, readEntryGeneration } from '../../../src/core/entry/lock.ts';
import { createMemoryProfileCache } from '../../../src/core/entry/profile-cache.ts';
import { createMemoryKeychain, openKeychain, type Keychain } from '../../../src/core/keychain/keychain.ts';
import type { ItemRead, SecretServiceProbe } from '../../../src/core/keychain/secret-service.ts';
import { createLogger } from '../../../src/core/log.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';
const account = keychainAccount({ clientId: CLIENT, issuer: ISSUER });

describe('reading the entry ahead, while the keychain opens', () => {
  let lockDir: string;
  let config: AuthConfig;
  let keychain: Keychain;
  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'latchkey-read-ahead-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: 'unused', dataDir: lockDir, usesDemoProvider: true };
    const inner = createMemoryKeychain();
    keychain = { ...inner, kind: 'os', get: (key) => inner.get(key), set: (key, secret) => inner.set(key, secret), delete: (key) => inner.delete(key) };
    await keychain.set(account, JSON.stringify({ v: 1, refresh_token: 'rt-1', issuer: ISSUER, client_id: CLIENT, sub: 'alice', scope: 'openid' }));
    announceEntryChange(entryLockPath(lockDir, config.keychainService, account));
  });
  afterEach(async () => {
    await rm(lockDir, { recursive: true, force: true });
  });
  const open = (snapshot?: ReturnType<typeof takeEntrySnapshot>) =>
    openSessionEntry({ config, keychain, profileCache: createMemoryProfileCache(), lockDir, logger: createLogger({ level: 'silent' }), onDegraded: () => {}, ...(snapshot ? { snapshot } : {}) });

  it('an entry another process changed after the snapshot is restored but not taken as synced; a later restore looks again', async () => {
    const snapshot = takeEntrySnapshot(config, account, lockDir);
    // Another process stores a new entry between the snapshot (before the keychain opened) and the restore.
    announceEntryChange(entryLockPath(lockDir, config.keychainService, account));
    const entry = open(snapshot);
    const first = await entry.restore();
    expect(first.stored?.refresh_token).toBe('rt-1');
    expect(first.generation).toBeUndefined();
    // Without a snapshot, the same restore would have called this read synced with the new generation.
    expect((await open().restore()).generation).toBe(readEntryGeneration(entryLockPath(lockDir, config.keychainService, account)));
    // The snapshot is for the first restore only.
    expect((await entry.restore()).generation).toBe(readEntryGeneration(entryLockPath(lockDir, config.keychainService, account)));
  });

  it('an unchanged entry is synced at the snapshot’s generation', async () => {
    const snapshot = takeEntrySnapshot(config, account, lockDir);
    expect((await open(snapshot).restore()).generation).toBe(snapshot.generation);
  });

  it('the keychain sends the read with its opening question, and the first read of that account takes its answer', async () => {
    const reads: string[] = [];
    const probe: SecretServiceProbe = {
      read: async (_service, item): Promise<ItemRead> => (reads.push(item), { state: 'unlocked', secret: `secret of ${item}` }),
      itemState: async () => undefined,
      defaultCollectionLocked: async () => undefined,
      isRunning: async () => true,
    };
    const store = await openKeychain('unused', { secretService: probe, readAhead: 'a', loadKeytar: () => Promise.reject(new Error('not needed')) });
    expect(reads).toEqual(['a']);
    expect(await store.get('a')).toBe('secret of a');
    expect(reads).toEqual(['a']);
    expect(await store.get('a')).toBe('secret of a');
    expect(reads).toEqual(['a', 'a']);
  });
});
