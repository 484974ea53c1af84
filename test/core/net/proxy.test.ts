// Which way a request goes: PAC results from the OS, proxy variables, loopback.
import { describe, expect, it } from 'vitest';
import { displayProxy, parsePacResult, planRoutes } from '../../../src/core/net/proxy.ts';

const remote = new URL('https://tenant.example.com/.well-known/openid-configuration');

describe('parsePacResult', () => {
  it('reads PROXY, HTTPS, SOCKS and DIRECT entries in order', () => {
    expect(parsePacResult('PROXY a:1; HTTPS b.corp:443;SOCKS5 c:1080 ; DIRECT').routes).toEqual([
      { kind: 'proxy', uri: 'http://a:1' },
      { kind: 'proxy', uri: 'https://b.corp:443' },
      { kind: 'proxy', uri: 'socks5://c:1080' },
      { kind: 'direct' },
    ]);
  });

  it('skips entries it cannot use and says which; an empty answer means direct', () => {
    expect(parsePacResult('SOCKS4 s:1080; QUIC q:443; PROXY a:1')).toEqual({ routes: [{ kind: 'proxy', uri: 'http://a:1' }], skipped: ['SOCKS4 s:1080', 'QUIC q:443'] });
    expect(parsePacResult('').routes).toEqual([{ kind: 'direct' }]);
  });
});

describe('planRoutes', () => {
  const system = async () => 'PROXY os.corp:8080; DIRECT';

  it('follows the OS when no proxy variable is set', async () => {
    expect(await planRoutes(remote, { env: {}, resolveProxy: system })).toEqual({ source: 'system', routes: [{ kind: 'proxy', uri: 'http://os.corp:8080' }, { kind: 'direct' }] });
  });

  it('lets HTTPS_PROXY (lowercase first) win over the OS, and falls back to HTTP_PROXY for https', async () => {
    expect(await planRoutes(remote, { env: { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, resolveProxy: system })).toMatchObject({ source: 'env', variable: 'https_proxy', routes: [{ kind: 'proxy', uri: 'http://lower:1' }] });
    expect(await planRoutes(remote, { env: { HTTP_PROXY: 'proxy.corp:3128' } })).toMatchObject({ source: 'env', variable: 'HTTP_PROXY', routes: [{ kind: 'proxy', uri: 'http://proxy.corp:3128' }] });
  });

  it('goes direct for NO_PROXY names, parent domains and *, port-aware — even when the OS names a proxy', async () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy });
    for (const noProxy of ['tenant.example.com', '.example.com', 'example.com', '*.example.com', 'other, example.com:443', '*']) {
      expect(await planRoutes(remote, { env: env(noProxy), resolveProxy: system }), noProxy).toMatchObject({ source: 'env', variable: 'NO_PROXY', routes: [{ kind: 'direct' }] });
    }
    for (const noProxy of ['ample.com', 'example.com:8443', 'fe80::1']) {
      expect(await planRoutes(remote, { env: env(noProxy) }), noProxy).toMatchObject({ routes: [{ kind: 'proxy' }] });
    }
  });

  it('goes direct when the OS lookup fails, and says so', async () => {
    const plan = await planRoutes(remote, { env: {}, resolveProxy: async () => Promise.reject(new Error('PAC script error')) });
    expect(plan).toEqual({ source: 'system', routes: [{ kind: 'direct' }], note: 'the OS proxy lookup failed (PAC script error), so direct' });
  });

  it('never asks the OS or a variable about loopback', async () => {
    let asked = false;
    const plan = await planRoutes(new URL('http://127.0.0.1:4400/'), { env: { HTTP_PROXY: 'http://p:1' }, resolveProxy: async () => ((asked = true), 'PROXY p:1') });
    expect(plan).toEqual({ source: 'none', routes: [{ kind: 'direct' }], note: 'loopback always goes direct' });
    expect(asked).toBe(false);
  });
});

describe('displayProxy', () => {
  it('never shows the credentials in a proxy URL', () => {
    expect(displayProxy('http://alice:s3cret@proxy.corp:8080')).toBe('http://proxy.corp:8080');
  });
});
