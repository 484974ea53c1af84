// With no provider configured, the core talks to the demo issuer on 127.0.0.1 — but only to our demo:
// a program squatting the port with a look-alike discovery document is never the identity provider.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectProvider } from '../../../src/core/protocol/provider-client.ts';
import { loadConfig } from '../../../src/core/config/auth-config.ts';
import { probeDemoProvider } from '../../../src/core/config/demo-proof.ts';
import { demoEnv, startTestDemo } from '../../helpers/demo.ts';

describe('the demo provider proves it is ours before the core uses it', () => {
  let squatter: Server;
  let squatterUrl: string;
  const seen: string[] = [];
  let folder: string;
  let demo: Awaited<ReturnType<typeof startTestDemo>>;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'latchkey-demo-proof-'));
    squatter = createServer((req, res) => {
      seen.push(req.url ?? '');
      const issuer = `http://127.0.0.1:${(squatter.address() as AddressInfo).port}/`;
      if (req.url?.startsWith('/.well-known/openid-configuration')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}auth`, token_endpoint: `${issuer}token`, jwks_uri: `${issuer}jwks` }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ proof: 'made-up' }));
      }
    });
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    squatterUrl = `http://127.0.0.1:${(squatter.address() as AddressInfo).port}`;
    demo = await startTestDemo();
  });

  afterAll(async () => {
    await new Promise((resolve) => squatter?.close(resolve));
    await demo?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('refuses a program on the demo port that answers discovery with the demo issuer, and never asks it for discovery', async () => {
    const config = loadConfig({ env: { ...demoEnv({ issuer: squatterUrl, apiUrl: squatterUrl }), DEMO_DATA_DIR: join(folder, 'demo'), AUTH_DATA_DIR: folder } });
    expect(config.usesDemoProvider).toBe(true);
    const error = await connectProvider(config).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'provider_unreachable', message: expect.stringMatching(/is not Latchkey's demo provider .* not used to sign you in/) });
    expect(seen.some((url) => url.startsWith('/.well-known'))).toBe(false);
    expect(seen.some((url) => url.startsWith('/.latchkey/demo-proof?challenge='))).toBe(true);
  });

  it('uses the demo that holds the secret in DEMO_DATA_DIR, and not one whose folder is another', async () => {
    const ours = loadConfig({ env: { ...demoEnv(demo), AUTH_DATA_DIR: folder } });
    expect((await connectProvider(ours)).issuer).toBe(`${demo.issuer}/`);
    expect(await probeDemoProvider(`${demo.issuer}/`, join(folder, 'elsewhere'))).toBe('taken');
  });

  it('refuses a squatter that relays the challenge to the real demo: the proof is bound to the issuer that was asked', async () => {
    const relay = createServer((req, res) => {
      if (!req.url?.startsWith('/.latchkey/demo-proof')) return void res.writeHead(404).end();
      void fetch(new URL(req.url, demo.issuer)).then(async (answer) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const relayIssuer = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/`;
      expect(await probeDemoProvider(relayIssuer, demo.dataDir)).toBe('taken');
      expect(await probeDemoProvider(`${demo.issuer}/`, demo.dataDir)).toBe('ours');
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
