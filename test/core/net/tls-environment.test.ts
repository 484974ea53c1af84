// No environment variable turns TLS verification off or widens a packaged app's trust: with real https
// servers, a real CONNECT proxy and Node processes started with the variables set, as a user's shell would.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpClient } from '../../../src/core/net/http.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-ca.ts';
import { startTestProxy, type TestProxy } from '../../helpers/test-proxy.ts';

const run = promisify(execFile);
const httpModule = fileURLToPath(new URL('../../../src/core/net/http.ts', import.meta.url));

describe('TLS that no variable turns off', () => {
  let certificates: TestCertificates;
  let server: Server;
  let proxy: TestProxy;
  let url: string;
  let emptyDir: string;

  beforeAll(async () => {
    certificates = await createTestCertificates(['localhost']);
    server = createServer({ key: certificates.key, cert: certificates.cert }, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}/.well-known/openid-configuration`;
    proxy = await startTestProxy({ hosts: { localhost: '127.0.0.1' } });
    emptyDir = await mkdtemp(join(tmpdir(), 'latchkey-empty-certs-'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await new Promise((resolve) => server?.close(resolve));
    await proxy?.close();
    await certificates?.close();
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 lets no untrusted certificate through, direct or through a proxy', async () => {
    vi.stubEnv('NODE_TLS_REJECT_UNAUTHORIZED', '0');
    for (const env of [{}, { HTTPS_PROXY: proxy.url }]) {
      const http = createHttpClient({ env });
      try {
        await expect(http.fetch(url)).rejects.toMatchObject({ code: 'certificate_untrusted' });
      } finally {
        await http.close();
      }
    }
    // The same server, its root trusted on purpose: the request itself is fine.
    const trusting = createHttpClient({ env: { HTTPS_PROXY: proxy.url }, caFile: certificates.caFile });
    try {
      expect((await trusting.fetch(url)).status).toBe(200);
    } finally {
      await trusting.close();
    }
  });

  it('a packaged app trusts nothing SSL_CERT_FILE, SSL_CERT_DIR or NODE_EXTRA_CA_CERTS name; development and the CLI honour them', async () => {
    const script = `import { createHttpClient } from ${JSON.stringify(httpModule)};
      const url = ${JSON.stringify(url)};
      const outcomes = {};
      for (const [name, options] of Object.entries({ packaged: { packaged: true }, embedded: { packaged: true, caCertificates: process.env.EMBEDDED_PEM }, development: {} })) {
        const http = createHttpClient({ env: {}, ...options });
        const report = await http.inspectTls(url);
        const fetched = await http.fetch(url).then((response) => response.status, (error) => error.code + ': ' + error.message);
        outcomes[name] = { trusted: report.trusted, issuer: report.issuer, fetched };
        await http.close();
      }
      console.log(JSON.stringify(outcomes));`;
    const { readFile } = await import('node:fs/promises');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, SSL_CERT_FILE: certificates.caFile, SSL_CERT_DIR: emptyDir, NODE_EXTRA_CA_CERTS: certificates.caFile, EMBEDDED_PEM: await readFile(certificates.caFile, 'utf8') },
    });
    const outcomes = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { trusted: boolean; fetched: number | string }>;
    expect(outcomes.packaged).toMatchObject({ trusted: false, fetched: expect.stringMatching(/^certificate_untrusted: .*add it to the OS trust store \(this installed app trusts no certificate file or variable\)/) });
    expect(outcomes.embedded).toMatchObject({ trusted: true, fetched: 200 });
    expect(outcomes.development).toMatchObject({ trusted: true, fetched: 200 });
  });
});
