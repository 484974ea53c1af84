// The profile picture main fetches for the window (whose CSP allows images only from the app and data:):
// over the core's HTTP client with its TLS rules, https only, an image/* answer, at most the size cap — against
// small servers on 127.0.0.1, an https one with a certificate from a throwaway root.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../../src/core/net/http.ts';
import { createProfilePictures, fetchProfilePicture, MAX_PICTURE_BYTES } from '../../../src/core/net/profile-picture.ts';
import { createTestCertificates, type TestCertificates } from '../../helpers/test-ca.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('the profile picture, fetched by main', () => {
  let certificates: TestCertificates;
  let https: Server;
  let plain: Server;
  let httpsOrigin: string;
  let plainOrigin: string;
  let trusting: HttpClient;
  let untrusting: HttpClient;
  const requests: string[] = [];
  /** How many bytes of an oversized body were written before the client went away. */
  let oversizedWritten = 0;

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.socket.localPort} ${req.url} cookie=${req.headers.cookie ?? ''} authorization=${req.headers.authorization ?? ''}`);
    const path = req.url ?? '/';
    if (path === '/avatar.png') return res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    if (path === '/avatar.svg') return res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8' }).end('<svg xmlns="http://www.w3.org/2000/svg"/>');
    if (path === '/page.html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<script>steal()</script>');
    if (path === '/untyped') return res.writeHead(200).end(PNG);
    if (path === '/declared-large') return res.writeHead(200, { 'content-type': 'image/png', 'content-length': MAX_PICTURE_BYTES + 1 }).end(Buffer.alloc(MAX_PICTURE_BYTES + 1));
    if (path === '/streamed-large') {
      // No length given: the client must stop reading at the cap, not after the 8 MiB sent.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024);
      const write = () => {
        while (oversizedWritten < 8 * 1024 * 1024) {
          oversizedWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.on('close', () => undefined);
      return write();
    }
    if (path === '/to-https') return res.writeHead(302, { location: `${httpsOrigin}/avatar.png` }).end();
    if (path === '/to-plain') return res.writeHead(302, { location: `${plainOrigin}/avatar.png` }).end();
    if (path === '/missing') return res.writeHead(404, { 'content-type': 'image/png' }).end();
    res.writeHead(404).end();
  };

  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    certificates = await createTestCertificates(['localhost', '127.0.0.1']);
    https = createHttpsServer({ key: certificates.key, cert: certificates.cert }, answer);
    plain = createHttpServer(answer);
    httpsOrigin = `https://localhost:${await listen(https)}`;
    plainOrigin = `http://127.0.0.1:${await listen(plain)}`;
    trusting = createHttpClient({ env: {}, caFile: certificates.caFile });
    untrusting = createHttpClient({ env: {} });
  });

  afterAll(async () => {
    await Promise.all([trusting?.close(), untrusting?.close()]);
    https?.closeAllConnections();
    plain?.closeAllConnections();
    await Promise.all([new Promise((resolve) => https?.close(resolve)), new Promise((resolve) => plain?.close(resolve))]);
    await certificates?.close();
  });

  it('an https image comes back as a data: URL of exactly its bytes, sent without cookies or credentials', async () => {
    expect(await fetchProfilePicture(`${httpsOrigin}/avatar.png`, { http: trusting })).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(await fetchProfilePicture(`${httpsOrigin}/avatar.svg`, { http: trusting })).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(requests.at(-1)).toMatch(/cookie= authorization=$/);
  });

  it('a picture that is not https is refused before any request: plain http (loopback too), and an https one redirected to http', async () => {
    const before = requests.length;
    expect(await fetchProfilePicture(`${plainOrigin}/avatar.png`, { http: trusting })).toBeUndefined();
    expect(await fetchProfilePicture('ftp://127.0.0.1/avatar.png', { http: trusting })).toBeUndefined();
    expect(await fetchProfilePicture('javascript:alert(1)', { http: trusting })).toBeUndefined();
    expect(requests.length).toBe(before);
    expect(await fetchProfilePicture(`${httpsOrigin}/to-plain`, { http: trusting })).toBeUndefined();
    // The redirect was asked for; the http address it named never was.
    expect(requests.slice(before).map((line) => line.split(' ')[1])).toEqual(['/to-plain']);
    expect(await fetchProfilePicture(`${httpsOrigin}/to-https`, { http: trusting })).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
  });

  it('the same TLS rules as the provider: a certificate the trust list does not hold is refused', async () => {
    expect(await fetchProfilePicture(`${httpsOrigin}/avatar.png`, { http: untrusting })).toBeUndefined();
  });

  it('the answer must be an image: text/html and a missing content type are refused, and so is an error status', async () => {
    expect(await fetchProfilePicture(`${httpsOrigin}/page.html`, { http: trusting })).toBeUndefined();
    expect(await fetchProfilePicture(`${httpsOrigin}/untyped`, { http: trusting })).toBeUndefined();
    expect(await fetchProfilePicture(`${httpsOrigin}/missing`, { http: trusting })).toBeUndefined();
  });

  it('the size cap: a picture declared or streamed past it is refused, and a streamed one is not read to its end', async () => {
    expect(await fetchProfilePicture(`${httpsOrigin}/declared-large`, { http: trusting })).toBeUndefined();
    expect(await fetchProfilePicture(`${httpsOrigin}/streamed-large`, { http: trusting })).toBeUndefined();
    expect(oversizedWritten).toBeLessThan(8 * 1024 * 1024);
    // Just under a smaller cap passes, just over it does not.
    expect(await fetchProfilePicture(`${httpsOrigin}/avatar.png`, { http: trusting, maxBytes: PNG.length })).toBeDefined();
    expect(await fetchProfilePicture(`${httpsOrigin}/avatar.png`, { http: trusting, maxBytes: PNG.length - 1 })).toBeUndefined();
  });

  it('asked again for the same picture (each state the window renders), it is fetched once', async () => {
    const pictures = createProfilePictures({ http: trusting });
    const before = requests.length;
    const [first, second] = await Promise.all([pictures(`${httpsOrigin}/avatar.png`), pictures(`${httpsOrigin}/avatar.png`)]);
    expect(first).toBe(second);
    expect(requests.length - before).toBe(1);
  });
});
