// The sentences for a refused certificate, and finding the refusal in undici's error chain.
import { describe, expect, it } from 'vitest';
import { certificateErrorCode, certificateUntrusted, type TlsReport } from '../../../src/core/net/tls.ts';

const url = new URL('https://login.example.com/.well-known/openid-configuration');
const report: TlsReport = { trusted: false, issuer: '"Corp Inspection CA" (Example Corp)', subject: '"login.example.com"', validFrom: 'Jan  1 00:00:00 2026 GMT', validTo: 'Feb  1 00:00:00 2026 GMT' };
const clock = () => Date.parse('2026-11-27T08:00:00Z');

describe('certificateUntrusted', () => {
  it('names the issuer, suspects TLS inspection and points at AUTH_CA_FILE for an unknown root', () => {
    const error = certificateUntrusted(url, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', report, clock);
    expect(error.code).toBe('certificate_untrusted');
    expect(error.message).toMatch(/^The certificate login\.example\.com presented is issued by "Corp Inspection CA" \(Example Corp\) to "login\.example\.com", which this computer does not trust \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\)\./);
    expect(error.message).toMatch(/company proxy .* inspecting TLS .* set AUTH_CA_FILE/);
  });

  it("says an expired certificate may be this computer's clock, with both times", () => {
    const { message } = certificateUntrusted(url, 'CERT_HAS_EXPIRED', report, clock);
    expect(message).toContain('valid Jan  1 00:00:00 2026 GMT – Feb  1 00:00:00 2026 GMT');
    expect(message).toContain("this computer's clock reads 2026-11-27T08:00:00.000Z");
  });

  it('says a certificate for another name may come from an inspecting proxy, or a wrong AUTH_ISSUER', () => {
    expect(certificateUntrusted(url, 'ERR_TLS_CERT_ALTNAME_INVALID', report, clock).message).toMatch(/is not for that name\. A company proxy may be inspecting TLS.*check AUTH_ISSUER/);
  });
});

describe('certificateErrorCode', () => {
  it("finds OpenSSL's code under fetch's TypeError, and nothing in a network error", () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) });
    expect(certificateErrorCode(refused)).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(certificateErrorCode(new TypeError('fetch failed', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }))).toBeUndefined();
  });
});
