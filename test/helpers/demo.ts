import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter } from 'oidc-provider';
import { vi } from 'vitest';
import { keychainAccount, openKeychain } from '../../src/core/index.ts';
import { DEMO_CLIENT_ID } from '../../src/shared/constants.ts';
import { FileStore } from '../../src/demo/provider/file-adapter.ts';
import { startDemo } from '../../src/demo/index.ts';
import type { DemoOptions, DemoServers } from '../../src/demo/index.ts';

// The models whose stored id is the value the provider hands out: an opaque token's value is its id.
const SECRET_KINDS = new Set(['RefreshToken', 'AuthorizationCode', 'AccessToken', 'ClientCredentials']);
const issued = new Set<string>();
let observing = false;

/**
 * Every refresh token, authorization code and opaque access token any demo in
 * this process issued so far, rotated and revoked ones included, as seen by its
 * storage — for leak checks that must not depend on what the client still holds.
 * (The demo's access and ID tokens are JWTs, never stored; `findLeaks` matches their shape.)
 */
export function issuedSecrets(): ReadonlySet<string> {
  return issued;
}

// Watches the provider's storage the way a stock adapter wrapper would, without changing
// what it stores or answers: each token the provider saves is noted before it is saved.
function observeIssuedSecrets(): void {
  if (observing) return;
  observing = true;
  const adapterFor = FileStore.prototype.adapterFor;
  FileStore.prototype.adapterFor = function (this: FileStore, name: string): Adapter {
    const adapter = adapterFor.call(this, name);
    return {
      ...adapter,
      upsert: (id, payload, expiresIn) => {
        if (SECRET_KINDS.has(String(payload.kind))) issued.add(id);
        return adapter.upsert(id, payload, expiresIn);
      },
    };
  };
}

/**
 * The real demo provider and API for a test: free ports (0) and, unless
 * `opts.dataDir` is given, a fresh temp data folder that `close()` removes.
 * Pass the returned `dataDir` (and the issuer's port) to a second call to
 * simulate a provider restart. Every secret it issues is noted for `issuedSecrets()`.
 */
export async function startTestDemo(opts: DemoOptions = {}): Promise<DemoServers & { dataDir: string }> {
  observeIssuedSecrets();
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? await mkdtemp(join(tmpdir(), 'latchkey-demo-'));
  let demo: DemoServers;
  try {
    demo = await startDemo({ idpPort: 0, apiPort: 0, ...opts, dataDir });
  } catch (error) {
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    issuer: demo.issuer,
    apiUrl: demo.apiUrl,
    stats: demo.stats,
    dataDir,
    failTokenEndpoint: (mode) => demo.failTokenEndpoint(mode),
    async close() {
      await demo.close();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The environment that points the auth core (or the app) at a test demo the way
 * a user's is pointed at the default one: the demo's ports, no issuer, and its
 * data folder (the app reuses a running demo only when it proves it holds that
 * folder's secret).
 */
export function demoEnv(demo: Pick<DemoServers, 'issuer' | 'apiUrl'> & { dataDir?: string }): Record<string, string> {
  return { DEMO_IDP_PORT: String(portOf(demo.issuer)), DEMO_API_PORT: String(portOf(demo.apiUrl)), ...(demo.dataDir ? { DEMO_DATA_DIR: demo.dataDir } : {}) };
}

/** The port an `http://127.0.0.1:<port>` URL listens on. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A port that was free a moment ago (bound to 0 on 127.0.0.1, then released), for settings that need a fixed one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * For a test that runs the app's main process (electron mocked) in development against `demo`: no
 * provider configured, the demo's ports and data folder (whose secret proves the demo is ours), its
 * own keychain service, and stderr quiet. `vi.unstubAllEnvs()` undoes it.
 */
export function stubAppEnvForDemo(demo: Pick<DemoServers, 'issuer' | 'apiUrl'> & { dataDir: string }, keychainService: string): void {
  for (const name of ['AUTH_DATA_DIR', 'AUTH_ISSUER', 'AUTH0_DOMAIN', 'AUTH_CONFIG']) vi.stubEnv(name, '');
  for (const [name, value] of Object.entries(demoEnv(demo))) vi.stubEnv(name, value);
  vi.stubEnv('AUTH_KEYCHAIN_SERVICE', keychainService);
  vi.stubEnv('LATCHKEY_LOG_LEVEL', 'silent');
}

/** Removes the keychain entry an app left signed in to `demo` (as a user's app would leave it). */
export async function forgetDemoSession(demo: Pick<DemoServers, 'issuer'>, keychainService: string): Promise<void> {
  await forgetSessionEntries(keychainService, keychainAccount({ clientId: DEMO_CLIENT_ID, issuer: `${demo.issuer}/` }));
}

/** Removes a session's keychain entry and the shared access token's own entry, where one was too large to ride along. */
export async function forgetSessionEntries(keychainService: string, account: string): Promise<void> {
  const keychain = await openKeychain(keychainService);
  for (const name of [account, `${account}#access-token`]) await keychain.delete(name).catch(() => undefined);
}
