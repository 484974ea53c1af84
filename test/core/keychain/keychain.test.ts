import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import keytar from 'keytar';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretServiceProbe } from '../../../src/core/keychain/secret-service.ts';
import { createMemoryKeychain, openKeychain } from '../../../src/core/keychain/keychain.ts';

const run = promisify(execFile);
const secretStoreModule = fileURLToPath(new URL('../../../src/core/keychain/keychain.ts', import.meta.url));

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

  it('falls back to memory only when keytar cannot load and every access needs it', async () => {
    const store = await openKeychain(service, { loadKeytar: () => Promise.reject(new Error('libsecret-1.so.0: cannot open shared object file')), secretService: undefined });
    expect(store.kind).toBe('memory-only');
    expect(store.reason).toMatch(/could not be loaded/);
  });

  it.skipIf(process.platform !== 'linux')('when keytar cannot load, the keychain is memory-only and says keytar failed: nothing is read around libsecret', async () => {
    const store = await openKeychain(service, { loadKeytar: () => Promise.reject(new Error('libsecret-1.so.0: cannot open shared object file')) });
    expect(store.kind).toBe('memory-only');
    // The Secret Service probe reads no secret itself: a direct read (DH transfer, GetSecrets) crashed gnome-keyring.
    expect(createSecretServiceProbe().read).toBeUndefined();
  });

  /** A keytar whose reads answer only when the test says so: a keychain showing a prompt. */
  function promptingKeytar() {
    let answer: (value: string | null) => void = () => {};
    const reading = new Promise<string | null>((resolve) => (answer = resolve));
    return {
      keytar: { getPassword: () => reading, setPassword: () => Promise.resolve(), deletePassword: () => Promise.resolve(true) },
      answer: (value: string | null) => answer(value),
    };
  }
  const secretService = (running: boolean) => ({ isRunning: async () => running, itemState: async () => undefined, defaultCollectionLocked: async () => undefined });

  it('falls back to memory only when the keychain does not answer and no Secret Service is running', async () => {
    const { keytar: hanging } = promptingKeytar();
    const store = await openKeychain(service, { loadKeytar: async () => hanging, timeoutMs: 50, secretService: secretService(false) });
    expect(store.kind).toBe('memory-only');
    expect(store.reason).toMatch(/not available/);
  });

  it('waits on a keychain that is there but slow to answer (a prompt is open), says so, and uses it once answered', async () => {
    const prompting = promptingKeytar();
    const waiting: string[] = [];
    const opening = openKeychain(service, {
      loadKeytar: async () => prompting.keytar,
      timeoutMs: 50,
      unlockTimeoutMs: 10_000,
      secretService: secretService(true),
      onWaiting: () => void waiting.push('waiting'),
    });
    await expect.poll(() => waiting).toEqual(['waiting']);
    prompting.answer(null);
    expect((await opening).kind).toBe('os');
  });

  it('falls back to memory only when the prompt is never answered', async () => {
    const { keytar: hanging } = promptingKeytar();
    const store = await openKeychain(service, { loadKeytar: async () => hanging, timeoutMs: 20, unlockTimeoutMs: 50, secretService: secretService(true) });
    expect(store.kind).toBe('memory-only');
  });

  it.skipIf(process.platform !== 'linux')('asks the real Secret Service whether an entry is there and locked', async () => {
    const probe = createSecretServiceProbe();
    expect(await probe.isRunning()).toBe(true);
    expect(await probe.itemState(service, 'someone@issuer')).toBe('absent');
    await keytar.setPassword(service, 'someone@issuer', 'a-secret-value');
    expect(await probe.itemState(service, 'someone@issuer')).toBe('unlocked');
    expect(await probe.defaultCollectionLocked()).toBe(false);
    expect(await createSecretServiceProbe({ busAddress: 'unix:path=/nonexistent' }).itemState(service, 'someone@issuer')).toBeUndefined();
  });

  it.skipIf(process.platform !== 'linux')('reads an entry through libsecret — the secret keytar stored, or none — short, long and non-ASCII', async () => {
    const real = await import('keytar');
    let keytarReads = 0;
    const counting = { ...real.default, getPassword: (service: string, account: string) => (keytarReads++, real.default.getPassword(service, account)) };
    const store = await openKeychain(service, { loadKeytar: async () => counting });
    expect(store.kind).toBe('os');
    keytarReads = 0;
    for (const secret of ['a-secret-value', `{"refresh_token":"${'r'.repeat(3000)}"}`, 'sécret ✓ 鍵']) {
      await keytar.setPassword(service, 'someone@issuer', secret);
      expect(await store.get('someone@issuer')).toBe(secret);
    }
    await keytar.deletePassword(service, 'someone@issuer');
    expect(await store.get('someone@issuer')).toBeNull();
    expect(keytarReads).toBe(4);
  });

  it('reports a locked entry as keychain_locked without reading it (no prompt) when asked not to prompt', async () => {
    let reads = 0;
    const counting = { getPassword: async () => (reads++, null), setPassword: () => Promise.resolve(), deletePassword: () => Promise.resolve(true) };
    const store = await openKeychain(service, { loadKeytar: async () => counting, secretService: { ...secretService(true), itemState: async () => 'locked' as const } });
    reads = 0;
    await expect(store.get('someone@issuer', { prompt: false })).rejects.toMatchObject({ code: 'keychain_locked' });
    expect(reads).toBe(0);
    // With a prompt allowed, a read that yields nothing (the prompt was dismissed or could not open) is still "locked", not "absent".
    await expect(store.get('someone@issuer')).rejects.toMatchObject({ code: 'keychain_locked', message: /^Your keychain is locked — unlock it/ });
    expect(reads).toBe(1);
  });
});

describe('createMemoryStore', () => {
  it('keeps entries per account for the life of the process only', async () => {
    const store = createMemoryKeychain();
    await store.set('one', 'x');
    expect(await store.get('one')).toBe('x');
    expect(await store.get('two')).toBeNull();
    await store.delete('one');
    expect(await store.get('one')).toBeNull();
  });
});
