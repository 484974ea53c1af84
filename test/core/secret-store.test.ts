import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import keytar from 'keytar';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore, openKeychain } from '../../src/core/secret-store.ts';

const run = promisify(execFile);
const secretStoreModule = fileURLToPath(new URL('../../src/core/secret-store.ts', import.meta.url));

describe('openKeychain', () => {
  const service = `latchkey-test-secret-store-${randomUUID()}`;
  afterEach(async () => {
    await keytar.deletePassword(service, 'someone@issuer');
  });

  it('stores, reads and deletes entries in the OS keychain', async () => {
    const store = await openKeychain(service);
    expect(store.kind).toBe('os');
    await store.set('someone@issuer', 'a-secret-value');
    expect(await keytar.getPassword(service, 'someone@issuer')).toBe('a-secret-value');
    expect(await store.get('someone@issuer')).toBe('a-secret-value');
    await store.delete('someone@issuer');
    expect(await keytar.getPassword(service, 'someone@issuer')).toBeNull();
    expect(await store.get('someone@issuer')).toBeNull();
  });

  it('falls back to memory only, with a reason, when no Secret Service answers', async () => {
    const script = `import { openKeychain } from ${JSON.stringify(secretStoreModule)};
      const store = await openKeychain(${JSON.stringify(service)});
      await store.set('a', 'b');
      console.log(JSON.stringify({ kind: store.kind, reason: store.reason, value: await store.get('a') }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent', LATCHKEY_LOG_LEVEL: 'silent' },
    });
    const result = JSON.parse(stdout) as { kind: string; reason: string; value: string };
    expect(result.kind).toBe('memory-only');
    expect(result.reason).toMatch(/won’t survive a restart/);
    expect(result.value).toBe('b');
  });

  it('falls back to memory only when keytar cannot load', async () => {
    const store = await openKeychain(service, { loadKeytar: () => Promise.reject(new Error('libsecret-1.so.0: cannot open shared object file')) });
    expect(store.kind).toBe('memory-only');
    expect(store.reason).toMatch(/could not be loaded/);
  });

  it('falls back to memory only when the keychain does not answer (locked, waiting for a prompt)', async () => {
    const hanging = {
      getPassword: () => new Promise<string | null>(() => {}),
      setPassword: () => Promise.resolve(),
      deletePassword: () => Promise.resolve(true),
    };
    const store = await openKeychain(service, { loadKeytar: async () => hanging, timeoutMs: 50 });
    expect(store.kind).toBe('memory-only');
    expect(store.reason).toMatch(/locked/);
  });
});

describe('createMemoryStore', () => {
  it('keeps entries per account for the life of the process only', async () => {
    const store = createMemoryStore();
    await store.set('one', 'x');
    expect(await store.get('one')).toBe('x');
    expect(await store.get('two')).toBeNull();
    await store.delete('one');
    expect(await store.get('one')).toBeNull();
  });
});
