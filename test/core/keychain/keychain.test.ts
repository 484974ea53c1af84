import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import keytar from 'keytar';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretServiceProbe } from '../../../src/core/keychain/secret-service.ts';
import { createMemoryKeychain, openKeychain } from '../../../src/core/keychain/keychain.ts';
import { startPrivateKeyring } from '../../helpers/private-keyring.ts';

const run = promisify(execFile);
const secretStoreModule = fileURLToPath(new URL('../../../src/core/keychain/keychain.ts', import.meta.url));
const concurrentReads = fileURLToPath(new URL('../../helpers/concurrent-secret-reads.ts', import.meta.url));

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

  it.skipIf(process.platform !== 'linux')('reads without keytar where the Secret Service answers, and a write that needs keytar when it cannot load fails saying so', async () => {
    let loads = 0;
    const store = await openKeychain(service, { loadKeytar: () => (loads++, Promise.reject(new Error('libsecret-1.so.0: cannot open shared object file'))) });
    expect(store.kind).toBe('os');
    await keytar.setPassword(service, 'someone@issuer', 'a-secret-value');
    expect(await store.get('someone@issuer')).toBe('a-secret-value');
    expect(loads).toBe(0);
    await expect(store.set('someone@issuer', 'another')).rejects.toMatchObject({ code: 'keychain_unavailable', message: /keytar failed to load \(libsecret-1\.so\.0/ });
    expect(loads).toBe(1);
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

  it.skipIf(process.platform !== 'linux')('reads an entry over the Secret Service directly — the secret keytar stored, or none — short, long and non-ASCII, without a libsecret call, opening included', async () => {
    const real = await import('keytar');
    let keytarReads = 0;
    const counting = { ...real.default, getPassword: (service: string, account: string) => (keytarReads++, real.default.getPassword(service, account)) };
    const store = await openKeychain(service, { loadKeytar: async () => counting });
    expect(store.kind).toBe('os');
    for (const secret of ['a-secret-value', `{"refresh_token":"${'r'.repeat(3000)}"}`, 'sécret ✓ 鍵']) {
      await keytar.setPassword(service, 'someone@issuer', secret);
      expect(await store.get('someone@issuer')).toBe(secret);
    }
    await keytar.deletePassword(service, 'someone@issuer');
    expect(await store.get('someone@issuer')).toBeNull();
    expect(keytarReads).toBe(0);
  });

  // gnome-keyring-daemon aborts — taking the user's unlocked keyring with it — when an OpenSession reaches it before it
  // has recorded the caller (upstream work items 190, 196, 199). Reads that sent OpenSession first did that here within a
  // few thousand concurrent reads; each read now asks its search first, as libsecret does. A private keyring, so a
  // crash takes only this test's daemon down.
  it.skipIf(process.platform !== 'linux')('3,000 direct reads, ten at once on new connections beside keytar writes, leave gnome-keyring-daemon running and never read a wrong secret', { timeout: 180_000 }, async () => {
    const keyring = await startPrivateKeyring();
    try {
      const { stdout } = await run(process.execPath, [concurrentReads, '3000', '10'], { env: { ...process.env, ...keyring.env }, timeout: 170_000 });
      const result = JSON.parse(stdout) as { right: number; wrong: number; unanswered: number; writes: number };
      const daemon = keyring.daemon();
      // The race still meets a search now and then (`handle_search_items: assertion 'session' failed`: that search is
      // never answered, and the read goes through libsecret); what must never happen is an OpenSession meeting it.
      expect(daemon.stderr).not.toMatch(/_negotiate: assertion|publish_dispatch: assertion|GLib-ERROR/);
      expect(daemon.running).toBe(true);
      expect(result.wrong).toBe(0);
      expect(result.writes).toBeGreaterThan(0);
      // A read with no answer in its 2 s (a daemon busy writing its file) goes through libsecret instead; nearly all are answered.
      expect(result.right).toBeGreaterThanOrEqual(2_900);
    } finally {
      await keyring.close();
    }
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
