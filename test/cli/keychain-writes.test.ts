// One keychain write per refresh: the rotated refresh token and the new access token every process
// shares go into the session's one entry together; and one keychain read before a refresh, not three —
// real demo provider, real OS keychain, real processes.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'vite';
import keytar from 'keytar';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthSession, createHttpClient, createLogger, keychainAccount, loadConfig, openKeychain, type HttpClient, type Keychain } from '../../src/core/index.ts';
import { forgetSessionEntries, freePort, startTestDemo } from '../helpers/demo.ts';
import { demoCliEnv, JWT, runCli } from '../helpers/cli.ts';

describe('keychain writes of a refresh', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  const service = `latchkey-test-keychain-writes-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-keychain-writes-'));
    demo = await startTestDemo({ accessTokenTtl: 60 });
  });

  afterAll(async () => {
    await forgetSessionEntries(service, keychainAccount(config()));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    if ((await storedEntry()) === null) expect((await cli(['login', '--timeout', '60'])).code).toBe(0);
  });

  const env = () => demoCliEnv(demo, { service, dataDir });
  const config = () => loadConfig({ env: env() });
  const cli = (args: string[]) => runCli(args, env());

  async function storedEntry(): Promise<{ refresh_token: string; access?: { access_token: string } | string } | null> {
    const raw = await keytar.getPassword(service, keychainAccount(config()));
    return raw === null ? null : JSON.parse(raw);
  }

  /** The real keychain, with every write recorded by account. */
  async function recordingKeychain(): Promise<{ store: Keychain; writes: string[] }> {
    const keychain = await openKeychain(service);
    const writes: string[] = [];
    const store: Keychain = {
      ...keychain,
      kind: keychain.kind,
      set: async (account, secret) => {
        writes.push(account);
        return keychain.set(account, secret);
      },
    };
    return { store, writes };
  }

  it('a rotating refresh writes the keychain once — the rotated refresh token with the new access token — and a CLI started after uses that token without a request', async () => {
    const { store, writes } = await recordingKeychain();
    const session = await createAuthSession({ config: config(), opener: async () => {}, keychain: store, logger: createLogger({ level: 'silent' }) });
    try {
      const before = (await storedEntry())!;
      const renewed = await session.refreshAccessToken(await session.getAccessToken());
      await session.whenIdle();
      expect(writes).toEqual([keychainAccount(config())]);
      const after = (await storedEntry())!;
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(after.access).toMatchObject({ access_token: renewed });
      expect(await keytar.getPassword(service, `${keychainAccount(config())}#access-token`)).toBeNull();

      const requests = demo.stats.tokenRequests;
      const fromCli = await cli(['token']);
      expect(fromCli.code, fromCli.stderr).toBe(0);
      expect(fromCli.stdout.trim()).toBe(renewed);
      expect(demo.stats.tokenRequests).toBe(requests);
    } finally {
      await session.close();
    }
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('a new process whose shared access token is stale reads the keychain entry once — at start — before it redeems the refresh token', async () => {
    const account = keychainAccount(config());
    const keychain = await openKeychain(service);
    let entryReads = 0;
    const counting: Keychain = {
      ...keychain,
      kind: keychain.kind,
      get: async (item, options) => {
        if (item === account) entryReads += 1;
        return keychain.get(item, options);
      },
    };
    const readsAtRedeem: number[] = [];
    const real = createHttpClient();
    const http: HttpClient = {
      ...real,
      fetch: ((input: string | URL, init?: RequestInit) => {
        if (init?.body instanceof URLSearchParams && init.body.get('grant_type') === 'refresh_token') readsAtRedeem.push(entryReads);
        return real.fetch(input, init);
      }) as typeof fetch,
    };
    // Ten minutes on: the access token stored with the entry (60 s) is past its use, as for a `latchkey token` run later.
    const later = () => Date.now() + 10 * 60_000;
    const requests = demo.stats.tokenRequests;
    const session = await createAuthSession({ config: config(), opener: async () => {}, keychain: counting, logger: createLogger({ level: 'silent' }), http, clock: later });
    try {
      const token = await session.getAccessToken();
      expect(token).toMatch(JWT);
      expect(demo.stats.tokenRequests).toBe(requests + 1);
      expect(readsAtRedeem).toEqual([1]);
    } finally {
      await session.close();
      await real.close();
    }
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('an answer that fails its checks after the rotation was stored keeps the rotated refresh token but takes its unchecked access token out again', async () => {
    const before = (await storedEntry())!;
    const closedPort = await freePort();
    // The key set cannot be fetched (connection refused) right after the provider answered with a rotated token.
    const real = createHttpClient();
    const http: HttpClient = {
      ...real,
      fetch: ((input: string | URL, init?: RequestInit) => (new URL(String(input)).pathname === '/jwks' ? real.fetch(`http://127.0.0.1:${closedPort}/jwks`) : real.fetch(input, init))) as typeof fetch,
    };
    const session = await createAuthSession({ config: config(), opener: async () => {}, logger: createLogger({ level: 'silent' }), http });
    try {
      await expect(session.refreshAccessToken(await session.getAccessToken())).rejects.toMatchObject({ code: 'provider_unreachable' });
    } finally {
      await session.close();
      await real.close();
    }
    const after = (await storedEntry())!;
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access).toBeUndefined();

    // Another process finds no shared token to use, so it refreshes with the rotated refresh token: no reuse.
    const next = await cli(['token']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout.trim()).toMatch(JWT);
    expect(demo.stats.reuseDetected).toBe(0);
  });
});

describe('a cached `latchkey token` from the bundle', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  let bundle: string;
  const service = `latchkey-test-token-loads-${randomUUID()}`;
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-token-loads-'));
    demo = await startTestDemo({ accessTokenTtl: 300 });
    // Inside the checkout, so the bundle finds node_modules as an installed package does.
    bundle = join(ROOT, 'out', `test-token-loads-${randomUUID()}`);
    await build({ root: ROOT, configFile: join(ROOT, 'vite.cli.config.ts'), logLevel: 'warn', build: { outDir: bundle } });
    await build({ root: ROOT, configFile: join(ROOT, 'vite.cli-script.config.ts'), logLevel: 'warn', build: { outDir: bundle } });
  });

  afterAll(async () => {
    await forgetSessionEntries(service, keychainAccount(loadConfig({ env: demoCliEnv(demo, { service, dataDir }) })));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(bundle, { recursive: true, force: true });
  });

  /** `latchkey args…` run from the bundle, with what it loaded: Node's modules, native libraries, and our ES modules (by file name). */
  async function recorded(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; modules: string[]; native: string[]; ours: string[] }> {
    const record = join(dataDir, 'loaded.json');
    const preload = join(dataDir, 'record-loads.cjs');
    await writeFile(
      preload,
      `const loaded = []; const ours = []; const dlopen = process.dlopen;
       process.dlopen = function (module, file, ...rest) { loaded.push(file); return dlopen.call(this, module, file, ...rest); };
       require('node:module').registerHooks({ load(url, context, next) { if (url.startsWith('file:')) ours.push(url.split('/').pop()); return next(url, context); } });
       process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ modules: process.moduleLoadList, native: loaded, ours })));`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', preload, join(bundle, 'main.js'), ...args], { env });
    return { stdout, ...(JSON.parse(await readFile(record, 'utf8')) as { modules: string[]; native: string[]; ours: string[] }) };
  }

  it('loads neither node:crypto nor node:fs/promises, and never libsecret: lock names listed, the DPoP key’s thumbprint stored beside it, the entry read over D-Bus, from the quick script’s code cache', async () => {
    const env = { ...demoCliEnv(demo, { service, dataDir }), XDG_CACHE_HOME: join(dataDir, 'cache') };
    expect((await runCli(['login', '--timeout', '60'], env)).code).toBe(0);
    const token = () => recorded(['token'], env);
    await token();
    const { stdout, modules, native, ours } = await token();
    expect(stdout.trim()).toMatch(JWT);
    // No command module and no core: the quick script alone (the hooks see ES modules; the script is run as a vm.Script).
    expect(ours).toEqual(['main.js', 'start.js']);
    expect(modules).not.toContain('NativeModule crypto');
    expect(modules).not.toContain('NativeModule internal/fs/promises');
    expect(native.filter((file) => /keytar/.test(file))).toEqual([]);
    // The quick script ran from the code cache its first run wrote, which holds compiled code and never the token.
    const cacheDir = join(dataDir, 'cache', 'latchkey', 'compile-cache');
    const quickCache = await readFile(join(cacheDir, 'quick-token.v8'));
    expect(quickCache.length).toBeGreaterThan(10_000);
    const files = (await readdir(cacheDir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect((await readFile(join(file.parentPath, file.name))).includes(stdout.trim())).toBe(false);
    // The entry this version wrote carries its key's thumbprint; the lock names are listed beside the locks.
    const entry = JSON.parse((await keytar.getPassword(service, keychainAccount(loadConfig({ env }))))!) as { dpop_key?: { jkt?: string } };
    expect(entry.dpop_key?.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(demo.stats.reuseDetected).toBe(0);
  });

  it('`headers URL` with a fresh bound token: made without a session (no command module, no core, no WebCrypto) — a proof the API accepts once', async () => {
    const env = { ...demoCliEnv(demo, { service, dataDir }), XDG_CACHE_HOME: join(dataDir, 'cache') };
    if ((await keytar.getPassword(service, keychainAccount(loadConfig({ env })))) === null) expect((await runCli(['login', '--timeout', '60'], env)).code).toBe(0);
    const url = `${demo.apiUrl}/me`;
    await recorded(['headers', url], env);
    const { stdout, modules, ours } = await recorded(['headers', url], env);
    expect(ours).toEqual(['main.js', 'start.js']);
    expect(modules).not.toContain('NativeModule internal/crypto/webcrypto');
    const headers = Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
    expect(headers.Authorization).toMatch(/^DPoP [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(headers.DPoP).toMatch(JWT);
    expect((await fetch(url, { headers })).status).toBe(200);
    expect((await fetch(url, { headers })).status).toBe(401);
    // `headers` keeps a code cache of its own (its path compiles the proof's functions too), with neither the token nor the proof in it.
    const quickCache = await readFile(join(dataDir, 'cache', 'latchkey', 'compile-cache', 'quick-headers.v8'));
    expect(quickCache.length).toBeGreaterThan(10_000);
    for (const secret of [headers.Authorization!.slice('DPoP '.length), headers.DPoP!]) expect(quickCache.includes(secret)).toBe(false);
  });
});
