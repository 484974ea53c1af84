// Starting the bundled demo provider from the app: against the real demo
// provider and real sockets on 127.0.0.1.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startDemo } from '../../../src/demo/index.ts';
import type { DemoOptions } from '../../../src/demo/index.ts';
import { APP_ORIGIN } from '../../../src/shared/constants.ts';
import { DemoPortTakenError, ensureDemoProvider } from '../../../src/main/dev-demo/demo.ts';
import { probeDemoProvider } from '../../../src/core/index.ts';
import { freePort, portOf, startTestDemo } from '../../helpers/demo.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('starting the demo provider with the app', () => {
  it('reuses a demo provider that proves it holds the secret in the demo data folder (npm run idp)', async () => {
    const demo = await startTestDemo();
    try {
      const start = vi.fn(startDemo);
      const started = await ensureDemoProvider({ issuer: `${demo.issuer}/`, demoPorts: { idp: portOf(demo.issuer), api: portOf(demo.apiUrl) } }, { startDemo: start, dataDir: demo.dataDir });
      expect(started).toBeUndefined();
      expect(start).not.toHaveBeenCalled();
    } finally {
      await demo.close();
    }
  });

  it('does not use a squatter that answers discovery with the demo issuer', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-app-demo-'));
    const requests: string[] = [];
    const squatter = createServer((request, response) => {
      requests.push(request.url ?? '');
      const issuer = `http://127.0.0.1:${(squatter.address() as AddressInfo).port}`;
      response.writeHead(200, { 'content-type': 'application/json' });
      // Discovery copied from the demo, and a made-up answer on every other path.
      response.end(JSON.stringify(request.url === '/.well-known/openid-configuration' ? { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token` } : { proof: 'f'.repeat(64) }));
    });
    const port = await listen(squatter);
    const issuer = `http://127.0.0.1:${port}/`;
    try {
      const real = await startTestDemo({ dataDir });
      await real.close();
      expect(((await (await fetch(new URL('.well-known/openid-configuration', issuer))).json()) as { issuer: string }).issuer).toBe(issuer.slice(0, -1));
      const start = vi.fn(startDemo);
      const attempt = ensureDemoProvider({ issuer, demoPorts: { idp: port, api: await freePort() } }, { startDemo: start, dataDir });
      await expect(attempt).rejects.toThrow(DemoPortTakenError);
      await expect(attempt).rejects.toThrow(/not Latchkey's demo provider/);
      expect(start).not.toHaveBeenCalled();
      expect(requests.some((url) => url.startsWith('/.latchkey/demo-proof?challenge='))).toBe(true);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('does not reuse a demo provider whose data folder (and secret) is another one', async () => {
    const demo = await startTestDemo();
    const otherDataDir = await mkdtemp(join(tmpdir(), 'latchkey-app-demo-'));
    try {
      const other = await startTestDemo({ dataDir: otherDataDir });
      await other.close();
      expect(await probeDemoProvider(`${demo.issuer}/`, demo.dataDir)).toBe('ours');
      expect(await probeDemoProvider(`${demo.issuer}/`, otherDataDir)).toBe('taken');
      expect(await probeDemoProvider(`${demo.issuer}/`, join(otherDataDir, 'never-started'))).toBe('taken');
    } finally {
      await demo.close();
      await rm(otherDataDir, { recursive: true, force: true });
    }
  });

  it('names the port when something else holds it, and starts nothing', async () => {
    const server = createServer((_request, response) => response.end('<html>some other app</html>'));
    const port = await listen(server);
    try {
      const start = vi.fn(startDemo);
      const attempt = ensureDemoProvider({ issuer: `http://127.0.0.1:${port}/`, demoPorts: { idp: port, api: await freePort() } }, { startDemo: start });
      await expect(attempt).rejects.toThrow(DemoPortTakenError);
      await expect(attempt).rejects.toThrow(new RegExp(`Port ${port} on 127.0.0.1 is used by a program that is not Latchkey's demo provider`));
      expect(start).not.toHaveBeenCalled();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('starts the demo on the configured ports, allowing the app origin, when they are free', async () => {
    const [idpPort, apiPort] = [await freePort(), await freePort()];
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-app-demo-'));
    const calls: DemoOptions[] = [];
    const start = (options: DemoOptions) => {
      calls.push(options);
      return startDemo(options);
    };
    const issuer = `http://127.0.0.1:${idpPort}/`;
    try {
      expect(await probeDemoProvider(issuer, dataDir)).toBe('free');
      const servers = await ensureDemoProvider({ issuer, demoPorts: { idp: idpPort, api: apiPort } }, { startDemo: start, dataDir });
      try {
        expect(calls).toEqual([expect.objectContaining({ idpPort, apiPort, host: '127.0.0.1', dataDir, allowedOrigins: [APP_ORIGIN] })]);
        expect(servers?.issuer).toBe(`http://127.0.0.1:${idpPort}`);
        expect(await probeDemoProvider(issuer, dataDir)).toBe('ours');
      } finally {
        await servers?.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
