// `latchkey headers URL`'s quick path (src/cli/quick-token.ts): the headers of one call made from the fresh token
// the keychain entry shares, without a session, by the session's own createRequestHeaders — and nothing (the session
// decides) for anything else. Real demo provider and API, real OS keychain, the CLI's sign-in.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount, loadConfig } from '../../src/core/index.ts';
import { quickHeaders } from '../../src/cli/quick-token.ts';
import { forgetSessionEntries, startTestDemo } from '../helpers/demo.ts';
import { demoCliEnv, runCli } from '../helpers/cli.ts';

describe.skipIf(process.platform !== 'linux')('`latchkey headers` without a session', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  const service = `latchkey-test-quick-headers-${randomUUID()}`;
  const env = () => demoCliEnv(demo, { service, dataDir });
  const config = () => loadConfig({ env: env() });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-quick-headers-'));
    demo = await startTestDemo({ accessTokenTtl: 300 });
    expect((await runCli(['login', '--timeout', '60'], env())).code).toBe(0);
  });

  afterAll(async () => {
    await forgetSessionEntries(service, keychainAccount(config()));
    await demo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('are the bound token and a proof for this method and URL, which the API accepts once', async () => {
    const url = `${demo.apiUrl}/me`;
    const headers = await quickHeaders(config(), {}, [url], env());
    expect(headers?.Authorization).toMatch(/^DPoP /);
    const proof = JSON.parse(Buffer.from(headers!.DPoP!.split('.')[1]!, 'base64url').toString()) as { htm: string; htu: string };
    expect(proof).toMatchObject({ htm: 'GET', htu: url });
    expect((await fetch(url, { headers: { ...headers } })).status).toBe(200);
    expect((await fetch(url, { headers: { ...headers } })).status).toBe(401);
    const post = await quickHeaders(config(), { method: 'post' }, [url], env());
    expect(JSON.parse(Buffer.from(post!.DPoP!.split('.')[1]!, 'base64url').toString())).toMatchObject({ htm: 'POST' });
  });

  it('are nothing when the session must decide: another API’s URL, a URL under none, a bad method, an agent, a plaintext file, an unknown account', async () => {
    const url = `${demo.apiUrl}/me`;
    const twoApis = { ...config(), apis: [...config().apis, { name: 'files', baseUrl: `${demo.apiUrl}/files/`, audience: 'https://files.example' }] };
    expect(await quickHeaders(twoApis, {}, [`${demo.apiUrl}/files/a`], env())).toBeUndefined();
    expect(await quickHeaders(twoApis, {}, [url], env())).toBeDefined();
    expect(await quickHeaders(config(), {}, [`${demo.issuer}/me`], env())).toBeUndefined();
    expect(await quickHeaders(config(), {}, [url, url], env())).toBeUndefined();
    await expect(quickHeaders(config(), { method: 'GET /x' }, [url], env())).rejects.toThrow(/HTTP method/);
    expect(await quickHeaders(config(), {}, [url], { ...env(), LATCHKEY_AGENT_SOCK: join(dataDir, 'agent.sock') })).toBeUndefined();
    expect(await quickHeaders(config(), {}, [url], { ...env(), LATCHKEY_INSECURE_PLAINTEXT_FILE: join(dataDir, 'session.json') })).toBeUndefined();
    expect(await quickHeaders(config(), { account: 'nobody@example.com' }, [url], env())).toBeUndefined();
  });
});
