// `latchkey token`'s first try: the fresh token a session's keychain entry shares, read without starting a session
// — and nothing whenever the session itself would have something to decide. The real Secret Service, real lock files.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAccountIndex } from '../../../src/core/accounts/account-index.ts';
import type { AuthConfig } from '../../../src/core/config/auth-config.ts';
import { createDpopKey, type DpopKey } from '../../../src/core/dpop/key.ts';
import { keychainAccount, serializeEntry } from '../../../src/core/entry/format.ts';
import { announceEntryChange, entryLockPath } from '../../../src/core/entry/lock.ts';
import { encodeAccess } from '../../../src/core/entry/shared-access-token.ts';
import { readFreshSharedToken } from '../../../src/core/session/fresh-token.ts';
import { renewalTimes } from '../../../src/core/tokens/access-token.ts';

const ISSUER = 'http://127.0.0.1:4400/';
const CLIENT = 'latchkey-desktop';

describe.skipIf(process.platform !== 'linux')('the fresh shared token, read without a session', () => {
  let lockDir: string;
  let config: AuthConfig;
  let key: DpopKey;
  const service = `latchkey-test-fresh-token-${randomUUID()}`;
  const base = keychainAccount({ clientId: CLIENT, issuer: ISSUER });
  const now = Date.now();
  const lockPath = (entry = base) => entryLockPath(lockDir, service, entry);

  /** An entry as a refresh leaves it: the refresh token, the key, and the access token it shares at the generation announced for it. */
  async function storeEntry(options: { entry?: string; sub?: string; token?: string; boundTo?: DpopKey; issuedFor?: AuthConfig } = {}): Promise<void> {
    const entry = options.entry ?? base;
    const sub = options.sub ?? 'alice';
    const generation = announceEntryChange(lockPath(entry));
    const bound = options.boundTo ?? key;
    const access = encodeAccess(options.issuedFor ?? config, { value: options.token ?? `at-${sub}`, refreshedAt: now, expiresAt: now + 3_600_000, tokenType: 'dpop', jkt: bound.jkt }, { sub, generation });
    const { serialized } = serializeEntry(config, { token: `rt-${sub}`, standsOn: 'refresh_token', sub, scope: 'openid offline_access', dpopKey: key.toStored() }, access);
    await keytar.setPassword(service, entry, serialized);
  }

  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'latchkey-fresh-token-'));
    config = { issuer: ISSUER, clientId: CLIENT, provider: 'generic', scope: 'openid offline_access', redirectPort: 0, redirectHost: '127.0.0.1', apiBaseUrl: '', apis: [], keychainService: service, dataDir: lockDir, usesDemoProvider: false };
    key = await createDpopKey();
  });
  afterEach(async () => {
    for (const { account } of await keytar.findCredentials(service)) await keytar.deletePassword(service, account);
    await rm(lockDir, { recursive: true, force: true });
  });

  it('is the token the entry shares, fresh and bound to the key stored with it', async () => {
    await storeEntry();
    expect(await readFreshSharedToken(config, { lockDir, now: () => now })).toMatchObject({ access: { value: 'at-alice', tokenType: 'dpop' } });
    // With what a call's headers are made of: the token as the session holds it, and the key it is bound to.
    const fresh = await readFreshSharedToken(config, { lockDir, now: () => now });
    expect(fresh?.access).toMatchObject({ value: 'at-alice', tokenType: 'dpop', jkt: key.jkt });
    expect(fresh?.key?.toStored().d).toBe(key.toStored().d);
  });

  it('is the named account’s own, from its own entry', async () => {
    const index = openAccountIndex(config, lockDir);
    await index.put({ sub: 'alice', name: 'alice@example.com', user: { sub: 'alice' }, entry: base }, true);
    const bobEntry = `${base}#sub:bob`;
    await index.put({ sub: 'bob', name: 'bob@example.com', user: { sub: 'bob' }, entry: bobEntry }, false);
    await storeEntry();
    await storeEntry({ entry: bobEntry, sub: 'bob' });
    expect(await readFreshSharedToken(config, { lockDir, now: () => now })).toMatchObject({ access: { value: 'at-alice', tokenType: 'dpop' } });
    expect(await readFreshSharedToken(config, { lockDir, account: 'bob@example.com', now: () => now })).toMatchObject({ access: { value: 'at-bob', tokenType: 'dpop' } });
    // An account the index does not have is the session's to report.
    expect(await readFreshSharedToken(config, { lockDir, account: 'carol', now: () => now })).toBeUndefined();
  });

  it('is nothing whenever the session would have something to decide', async () => {
    const read = (at = now, given = config) => readFreshSharedToken(given, { lockDir, now: () => at });
    expect(await read()).toBeUndefined(); // no entry
    await storeEntry();
    const { refreshAt } = renewalTimes(now, now + 3_600_000);
    expect(await read(refreshAt)).toBeUndefined(); // due for renewal: the session refreshes
    expect(await read(undefined, { ...config, issuer: 'http://127.0.0.1:4401/' })).toBeUndefined(); // another issuer's session
    expect(await read(undefined, { ...config, scope: 'openid offline_access api' })).toBeUndefined(); // issued for another API
    await writeFile(lockPath(), ''); // a holder at work
    expect(await read()).toBeUndefined();
    await rm(lockPath());
    expect(await read()).toMatchObject({ access: { value: 'at-alice', tokenType: 'dpop' } });
    announceEntryChange(lockPath()); // a change announced since the entry was written
    expect(await read()).toBeUndefined();
    await storeEntry({ boundTo: await createDpopKey() }); // bound to another key than the one stored
    expect(await read()).toBeUndefined();
    await storeEntry({ sub: 'bob' }); // an index that says this account is someone else
    await openAccountIndex(config, lockDir).put({ sub: 'alice', name: 'alice@example.com', user: { sub: 'alice' }, entry: base }, true);
    expect(await read()).toBeUndefined();
  });
});
