// The log's backstop redaction: whatever form a secret takes in text Latchkey does not control (a provider's
// error_description, an error quoting a URL or a body), it leaves as a fingerprint, never as itself.
import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from '../../src/core/log.ts';
import { AuthError } from '../../src/core/errors.ts';

const SECRET = 'Zx9Q-opaque_SECRET.value~42';

describe('redactSecrets', () => {
  it.each([
    ['a JSON token response', `{"access_token":"${SECRET}","token_type":"Bearer"}`],
    ['JSON quoted inside JSON (a body in a log field)', JSON.stringify({ body: JSON.stringify({ refresh_token: SECRET }) })],
    ['a JSON key in upper case', `{"REFRESH_TOKEN": "${SECRET}"}`],
    ['RFC 7009 revocation form', `token=${SECRET}&token_type_hint=refresh_token`],
    ['an upper-case form name', `ACCESS_TOKEN=${SECRET}`],
    ['a percent-encoded parameter inside another URL', `https://app.example/next?return=%2Fcb%3Fcode%3D${SECRET}%26state%3Dabc`],
    ['a device code (RFC 8628)', `device_code=${SECRET}&grant_type=urn`],
    ['an opaque bearer token', `authorization: Bearer ${SECRET}`],
    ['proxy credentials in a URL', `connect failed via http://corp-user:${SECRET}@proxy.corp:8080/`],
    ['a client secret form field', `client_secret=${SECRET}`],
  ])('hides %s', (_form, text) => {
    const redacted = redactSecrets(text);
    expect(redacted).not.toContain(SECRET);
    expect(redacted).toMatch(/\[(?:credentials )?[\da-f]{6}\]/);
  });

  it('hides every part of a JWE, not only its first three', () => {
    const jwe = 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..N2l2aXZpdml2aXZp.Y2lwaGVydGV4dC1zZWNyZXQtdGFpbA.dGFndGFndGFndGFndGFn';
    const redacted = redactSecrets(`id_token ${jwe} end`);
    for (const part of jwe.split('.').filter(Boolean)) expect(redacted).not.toContain(part);
    expect(redacted).toMatch(/ end$/);
  });

  it('leaves ordinary text, the authorization URL’s public parameters and WWW-Authenticate challenges alone', () => {
    const text = 'Open https://idp.example/authorize?client_id=app&code_challenge=abc&state=xyz — Bearer error="invalid_token" {"code":"ECONNRESET","error":"invalid_grant"}';
    expect(redactSecrets(text)).toBe(text);
  });

  it('is applied to every AuthError message, so a provider’s error_description reaches no screen verbatim', () => {
    const error = new AuthError('session_ended', `Your session ended at the provider: it refused the refresh (invalid_grant — token ${SECRET} given as refresh_token=${SECRET}). Sign in again.`);
    expect(error.message).not.toContain(`refresh_token=${SECRET}`);
  });

  it('is applied to each log line', () => {
    const lines: string[] = [];
    createLogger({ level: 'debug', sink: (line) => lines.push(line) }).warn('answer', { body: `{"id_token":"${SECRET}"}` });
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});
