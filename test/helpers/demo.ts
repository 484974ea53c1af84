import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../../src/demo/index.ts';
import type { DemoOptions, DemoServers } from '../../src/demo/index.ts';

/**
 * The real demo provider and API for a test: free ports (0) and, unless
 * `opts.dataDir` is given, a fresh temp data folder that `close()` removes.
 * Pass the returned `dataDir` (and the issuer's port) to a second call to
 * simulate a provider restart.
 */
export async function startTestDemo(opts: DemoOptions = {}): Promise<DemoServers & { dataDir: string }> {
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
