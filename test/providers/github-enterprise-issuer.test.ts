// The github preset with AUTH_ISSUER set to a GitHub Enterprise Server host but none of the endpoint
// settings: its endpoints would all stay github.com / api.github.com, so `login --device` would post the
// GHES app's client id and secret to github.com and `logout` would send them as Basic credentials to
// api.github.com. Refused at start-up instead, naming the setting and the fix; no request leaves the
// process. Every https request would have to pass a local proxy (HTTPS_PROXY) that counts what it is
// asked for and answers 407, so nothing reaches the network even when the check is missing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startTestProxy, type TestProxy } from '../helpers/test-proxy.ts';

const GHES = 'https://ghes.example.test/';

describe('the github preset with a GitHub Enterprise Server issuer and no endpoint settings', () => {
  let proxy: TestProxy;
  let dataDir: string;
  beforeAll(async () => {
    proxy = await startTestProxy({ users: { nobody: 'never-given' } });
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-ghes-'));
  });
  afterAll(async () => {
    await proxy.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    AUTH_PROVIDER: 'github',
    AUTH_ISSUER: GHES,
    AUTH_CLIENT_ID: 'Iv23liGhesApp',
    AUTH_CLIENT_SECRET: 'ghes-app-secret',
    AUTH_KEYCHAIN_SERVICE: `latchkey-test-ghes-${process.pid}`,
    AUTH_DATA_DIR: dataDir,
    HTTPS_PROXY: proxy.url,
    HTTP_PROXY: proxy.url,
    NO_PROXY: '',
    BROWSER: 'false',
  });

  it.each(['login --device --timeout 20', 'login --timeout 20', 'logout', 'token', 'doctor'])(
    '`latchkey %s` is refused at start-up, naming AUTH_ISSUER and the endpoint settings to set, and sends nothing anywhere',
    async (command) => {
      const result = await runCli(command.split(' '), env());
      const said = result.stdout + result.stderr;
      expect(said).toContain(`AUTH_ISSUER: ${GHES} is not where the github preset's endpoints are (github.com, api.github.com)`);
      expect(said).toContain('set AUTH_AUTHORIZATION_ENDPOINT and AUTH_TOKEN_ENDPOINT too (e.g. https://ghes.example.test/login/oauth/authorize and https://ghes.example.test/login/oauth/access_token)');
      expect(said).not.toContain('ghes-app-secret');
      expect(result.code).toBe(2);
      expect(proxy.log).toEqual([]);
    },
  );
});
