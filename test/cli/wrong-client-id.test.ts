// A wrong AUTH_CLIENT_ID, as a newcomer types it: the stock demo provider (oidc-provider) answers the
// redirect probe's authorization request with its invalid_client page and the device authorization
// request with 401 invalid_client. `doctor`, `login` and `login --device` report that answer as what it
// is, naming AUTH_CLIENT_ID — not as exact redirect-port matching (AUTH_REDIRECT_PORT=53682) nor as a
// grant to allow — and `login` does not fall back to a code, which the provider would refuse the same way.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCliEnv, runCli } from '../helpers/cli.ts';
import { startTestDemo } from '../helpers/demo.ts';

describe('a client id the provider does not know', () => {
  let demo: Awaited<ReturnType<typeof startTestDemo>>;
  let dataDir: string;
  beforeAll(async () => {
    [demo, dataDir] = await Promise.all([startTestDemo(), mkdtemp(join(tmpdir(), 'latchkey-wrong-client-'))]);
  });
  afterAll(async () => {
    await Promise.all([demo?.close(), rm(dataDir, { recursive: true, force: true })]);
  });
  const env = () => demoCliEnv(demo, { service: `latchkey-test-wrong-client-${randomUUID()}`, dataDir }, { AUTH_CLIENT_ID: 'no-such-client', BROWSER: 'false' });
  const noGuesses = (said: string) => {
    expect(said).not.toContain('AUTH_REDIRECT_PORT');
    expect(said).not.toContain('port included');
    expect(said).not.toContain('Allow the device authorization grant');
    expect(said).not.toContain('signing in with a code instead');
  };

  it('doctor says the provider does not accept the client id (invalid_client) and to check AUTH_CLIENT_ID, exit 2', async () => {
    const doctor = await runCli(['doctor'], env());
    expect(doctor.stdout).toMatch(/✗ Redirect URI accepted: The provider does not accept the client id no-such-client \(HTTP 400: invalid_client\)\. Check AUTH_CLIENT_ID/);
    // The informational "Redirect URI" line names AUTH_REDIRECT_PORT as an option; the verdict does not guess at it.
    noGuesses(doctor.stdout.split('\n').filter((line) => line.includes('Redirect URI accepted')).join('\n') + doctor.stderr);
    expect(doctor.code).toBe(2);
  });

  it('login says the same before any browser or code, and does not fall back to a code, exit 2', async () => {
    const login = await runCli(['login', '--timeout', '20'], env());
    expect(login.stderr).toMatch(/^The provider does not accept the client id no-such-client \(HTTP 400: invalid_client\)\. Check AUTH_CLIENT_ID/);
    noGuesses(login.stdout + login.stderr);
    expect(login.stdout).toBe('');
    expect(login.code).toBe(2);
  });

  it('login --device names invalid_client and AUTH_CLIENT_ID, not the device grant, exit 2', async () => {
    const login = await runCli(['login', '--device', '--timeout', '20'], env());
    expect(login.stderr).toMatch(/refused to start a sign-in with a code \(invalid_client — client authentication failed; that is, the provider does not accept this client.*\)\. Check AUTH_CLIENT_ID \(no-such-client\)/);
    noGuesses(login.stdout + login.stderr);
    expect(login.code).toBe(2);
  });
});
