// Starting the bundled demo provider from the app: against the real demo
// provider and real sockets on 127.0.0.1.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startDemo } from '../../src/demo/index.ts';
import type { DemoOptions } from '../../src/demo/index.ts';
import { APP_ORIGIN } from '../../src/shared/constants.ts';
import { DemoPortTakenError, ensureDemoProvider, probeDemoIssuer } from '../../src/main/demo.ts';
import { portOf, startTestDemo } from '../helpers/demo.ts';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('starting the demo provider with the app', () => {
  it('reuses a demo provider that already answers at the issuer (npm run idp)', async () => {
    const demo = await startTestDemo();
    try {
      const start = vi.fn(startDemo);
      const started = await ensureDemoProvider({ issuer: `${demo.issuer}/`, demoPorts: { idp: portOf(demo.issuer), api: portOf(demo.apiUrl) } }, { startDemo: start });
      expect(started).toBeUndefined();
      expect(start).not.toHaveBeenCalled();
    } finally {
      await demo.close();
    }
  });

  it('names the port when something else holds it, and starts nothing', async () => {
    const server = createServer((_request, response) => response.end('<html>some other app</html>'));
    const port = await listen(server);
    try {
      const start = vi.fn(startDemo);
      const attempt = ensureDemoProvider({ issuer: `http://127.0.0.1:${port}/`, demoPorts: { idp: port, api: await freePort() } }, { startDemo: start });
      await expect(attempt).rejects.toThrow(DemoPortTakenError);
      await expect(attempt).rejects.toThrow(new RegExp(`Port ${port} on 127.0.0.1 is used by another program`));
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
      expect(await probeDemoIssuer(issuer)).toBe('free');
      const servers = await ensureDemoProvider({ issuer, demoPorts: { idp: idpPort, api: apiPort } }, { startDemo: start, dataDir });
      try {
        expect(calls).toEqual([expect.objectContaining({ idpPort, apiPort, host: '127.0.0.1', dataDir, allowedOrigins: [APP_ORIGIN] })]);
        expect(servers?.issuer).toBe(`http://127.0.0.1:${idpPort}`);
        expect(await probeDemoIssuer(issuer)).toBe('ours');
      } finally {
        await servers?.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
