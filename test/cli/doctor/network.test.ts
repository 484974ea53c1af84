// doctor's network checks: the proxy in use and where it came from, the TLS
// result, and the clock compared with the provider's Date header.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.ts';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../../src/shared/constants.ts';
import { startTestDemo } from '../../helpers/demo.ts';

const FIVE_MINUTES_MS = 5 * 60_000;

describe('doctor: network', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  /** The provider's discovery behind a server whose clock is 5 minutes ahead: its Date header says so. */
  let skewed: Server;
  let skewedIssuer: string;

  beforeAll(async () => {
    demo = await startTestDemo();
    skewed = createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(new URL(req.url ?? '/', demo.issuer));
        const metadata = (await upstream.json()) as Record<string, unknown>;
        res.sendDate = false;
        res.writeHead(upstream.status, { 'content-type': 'application/json', date: new Date(Date.now() + FIVE_MINUTES_MS).toUTCString() });
        res.end(JSON.stringify({ ...metadata, issuer: skewedIssuer }));
      })();
    });
    await new Promise<void>((resolve) => skewed.listen(0, '127.0.0.1', resolve));
    skewedIssuer = `http://127.0.0.1:${(skewed.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    skewed?.closeAllConnections();
    await new Promise((resolve) => skewed?.close(resolve));
    await demo?.close();
  });

  async function doctor(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
    let stdout = '';
    const code = await runCli(['doctor'], { stdout: (text) => (stdout += text), stderr: () => {}, env: { AUTH_CLIENT_ID: DEMO_CLIENT_ID, AUTH_AUDIENCE: DEMO_AUDIENCE, ...env } });
    return { code, stdout };
  }

  it("reports a provider whose Date header is 5 minutes off this computer's clock, with the fix", async () => {
    const { stdout } = await doctor({ AUTH_ISSUER: skewedIssuer });
    expect(stdout).toMatch(/✓ Discovery/);
    expect(stdout).toMatch(/! Clock: this computer's clock is (4 min 5\d s|5 min [0-1] s) behind the provider's/);
    expect(stdout).toMatch(/fix: Set the date, time and time zone automatically/);
  });

  it('passes the clock of a provider in step, and says loopback goes direct without TLS', async () => {
    const { stdout } = await doctor({ AUTH_ISSUER: demo.issuer, HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(stdout).toMatch(/✓ Clock: within [0-2] s of the provider's/);
    expect(stdout).toMatch(/✓ Proxy: direct for 127\.0\.0\.1:\d+ — loopback always goes direct/);
    expect(stdout).toMatch(/✓ TLS: not used/);
  });
});
