// doctor's judgement of provider metadata, for providers that lack what a
// native app needs (the end-to-end doctor runs against the demo are in cli.test.ts).
import { describe, expect, it } from 'vitest';
import { metadataChecks } from '../../../src/cli/doctor/doctor.ts';
import { EXIT } from '../../../src/cli/exit-codes.ts';

const byName = (metadata: Record<string, unknown>) => new Map(metadataChecks(metadata).map((check) => [check.name, check]));

describe('doctor metadata checks', () => {
  it('passes a provider that lists PKCE S256 and the refresh_token grant', () => {
    const checks = byName({ code_challenge_methods_supported: ['plain', 'S256'], grant_types_supported: ['authorization_code', 'refresh_token'] });
    expect(checks.get('PKCE S256')?.outcome).toBe('pass');
    expect(checks.get('Refresh token grant')?.outcome).toBe('pass');
  });

  it('fails a provider that lists only other PKCE methods, as unusable (exit 3), saying what it offers', () => {
    const checks = byName({ code_challenge_methods_supported: ['plain'], grant_types_supported: ['authorization_code'] });
    expect(checks.get('PKCE S256')).toMatchObject({ outcome: 'fail', failsWith: EXIT.providerUnavailable, detail: expect.stringContaining('plain') });
    expect(checks.get('PKCE S256')?.fix).toMatch(/RFC 7636/);
  });

  it('only warns when the grants listed leave out refresh_token: Glewlwyd and oauth2-mock-server refresh all the same', () => {
    const checks = byName({ code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code', 'implicit'] });
    expect(checks.get('Refresh token grant')).toMatchObject({ outcome: 'warn', detail: 'not advertised (grant_types_supported: authorization_code, implicit); tried at sign-in' });
    expect(checks.get('Refresh token grant')).not.toHaveProperty('failsWith');
  });

  it('only warns when the provider does not advertise the lists at all, naming the missing field', () => {
    const checks = byName({});
    expect(checks.get('PKCE S256')).toMatchObject({ outcome: 'warn', detail: expect.stringContaining('code_challenge_methods_supported') });
    expect(checks.get('Refresh token grant')).toMatchObject({ outcome: 'warn', detail: expect.stringContaining('grant_types_supported') });
  });
});
