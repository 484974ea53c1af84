// A build's `caFile` is read at build time and its certificates embedded: the packaged app never resolves
// a path at run time, so started from a folder where someone placed a root of their own (a downloads
// folder), it still trusts exactly the build's root. Real https servers; the build definitions are those
// electron.vite.config.ts hands to the bundle.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDefinitions, PACKAGED_MODE } from '../../electron.vite.config.ts';
import { createHttpClient, loadConfig } from '../../src/core/index.ts';
import { createTestCertificates, type TestCertificates } from '../helpers/test-ca.ts';

const BUILD_SETTINGS = { auth0Domain: 'packaging-test.eu.auth0.com', clientId: 'packaging-test-client', audience: 'https://api.packaging.example', apiBaseUrl: 'https://api.packaging.example' };

async function serve(certificates: TestCertificates): Promise<{ server: Server; url: string }> {
  const server = createServer({ key: certificates.key, cert: certificates.cert }, (_req, res) => res.writeHead(200).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://localhost:${(server.address() as AddressInfo).port}/` };
}

describe('a packaged build embeds its caFile’s certificates', () => {
  let buildRoot: TestCertificates;
  let plantedRoot: TestCertificates;
  let scratch: string;
  let projectDir: string;
  let downloads: string;
  const startedIn = process.cwd();

  beforeAll(async () => {
    [buildRoot, plantedRoot] = await Promise.all([createTestCertificates(['localhost']), createTestCertificates(['localhost'])]);
    scratch = await mkdtemp(join(tmpdir(), 'latchkey-embedded-ca-'));
    projectDir = join(scratch, 'project');
    downloads = join(scratch, 'downloads');
    await mkdir(join(projectDir, 'certs'), { recursive: true });
    await mkdir(join(downloads, 'certs'), { recursive: true });
    await cp(buildRoot.caFile, join(projectDir, 'certs', 'corp.pem'));
    // What the app would find under the same relative path in the folder it was started from.
    await cp(plantedRoot.caFile, join(downloads, 'certs', 'corp.pem'));
    await writeFile(join(projectDir, 'latchkey.config.json'), JSON.stringify({ ...BUILD_SETTINGS, caFile: 'certs/corp.pem' }));
  });
  afterAll(async () => {
    process.chdir(startedIn);
    await Promise.all([buildRoot?.close(), plantedRoot?.close()]);
    await rm(scratch, { recursive: true, force: true });
  });

  it('started from another folder, it trusts the build’s root and not one placed at the same relative path there', async () => {
    process.chdir(downloads);
    const definitions = buildDefinitions(PACKAGED_MODE, projectDir);
    const config = loadConfig({ env: {}, dataDir: scratch, build: JSON.parse(definitions.__LATCHKEY_BUILD_SETTINGS__!), packaged: true });
    const http = createHttpClient({ env: {}, caFile: config.caFile, caCertificates: config.caCertificates, packaged: config.packaged });
    const [ours, planted] = await Promise.all([serve(buildRoot), serve(plantedRoot)]);
    try {
      expect((await http.fetch(ours.url)).status).toBe(200);
      await expect(http.fetch(planted.url)).rejects.toMatchObject({ code: 'certificate_untrusted' });
      expect(definitions.__LATCHKEY_BUILD_SETTINGS__).not.toContain('certs/corp.pem');
    } finally {
      await http.close();
      await Promise.all([ours, planted].map(({ server }) => new Promise((resolve) => server.close(resolve))));
      process.chdir(startedIn);
    }
  });

  it('refuses, at build time, a caFile that cannot be read, naming it; and a packaged app refuses a path in its embedded settings', async () => {
    const broken = join(scratch, 'broken');
    await mkdir(broken);
    await writeFile(join(broken, 'latchkey.config.json'), JSON.stringify({ ...BUILD_SETTINGS, caFile: 'certs/missing.pem' }));
    expect(() => buildDefinitions(PACKAGED_MODE, broken)).toThrow(/"caFile" in latchkey\.config\.json: .*missing\.pem cannot be read/);
    expect(() => loadConfig({ env: {}, dataDir: scratch, build: { ...BUILD_SETTINGS, caFile: join(downloads, 'certs', 'corp.pem') }, packaged: true })).toThrow(/never reads a certificate file at run time/);
  });
});
