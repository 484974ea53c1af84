// What doctor says about the provider preset: what to register there, a client secret (a warning unless
// the provider insists on one, never the secret itself), and Entra's tenants.
import { describe, expect, it } from 'vitest';
import { presetChecks } from '../../../src/cli/doctor/preset.ts';
import { loadConfig } from '../../../src/core/index.ts';

const checksFor = (env: Record<string, string>) => new Map(presetChecks(loadConfig({ env: { AUTH_DATA_DIR: '/tmp/latchkey-doctor-preset', ...env } })).map((check) => [check.name, check]));

describe('doctor preset checks', () => {
  it('names the preset and what to register at that provider', () => {
    const checks = checksFor({ AUTH_PROVIDER: 'google', AUTH_CLIENT_ID: 'c', AUTH_CLIENT_SECRET: 'GOCSPX-x' });
    expect(checks.get('Provider preset')).toMatchObject({ outcome: 'pass', detail: expect.stringMatching(/^Google \(AUTH_PROVIDER=google\); register there: an OAuth client of type "Desktop app"/) });
  });

  it('with the generic preset, warns about a client secret and recommends a public client — without showing the secret', () => {
    const secret = checksFor({ AUTH_ISSUER: 'https://idp.example.com', AUTH_CLIENT_ID: 'c', AUTH_CLIENT_SECRET: 'hunter2' }).get('Client secret');
    expect(secret).toMatchObject({ outcome: 'warn', detail: expect.stringContaining('RFC 8252 §8.5'), fix: expect.stringContaining('native/public client') });
    expect(JSON.stringify(secret)).not.toContain('hunter2');
  });

  it('passes a secret the provider insists on, still saying it is no secret in a desktop app', () => {
    const secret = checksFor({ AUTH_PROVIDER: 'github', AUTH_CLIENT_ID: 'Iv1', AUTH_CLIENT_SECRET: 's' }).get('Client secret');
    expect(secret).toMatchObject({ outcome: 'pass', detail: expect.stringMatching(/because GitHub insists on it; a secret inside a desktop app is not a secret/) });
  });

  it('lists the allowed Entra tenants, and warns when any tenant may sign in', () => {
    const listed = checksFor({ AUTH_PROVIDER: 'entra', AUTH_TENANT: 'organizations', AUTH_CLIENT_ID: 'app', AUTH_ALLOWED_TENANTS: 'tenant-a,tenant-b' }).get('Tenants');
    expect(listed).toMatchObject({ outcome: 'pass', detail: 'sign-ins only from tenant-a, tenant-b' });
    const any = checksFor({ AUTH_PROVIDER: 'entra', AUTH_TENANT: 'common', AUTH_CLIENT_ID: 'app', AUTH_ALLOWED_TENANTS: '*' }).get('Tenants');
    expect(any).toMatchObject({ outcome: 'warn' });
  });
});
