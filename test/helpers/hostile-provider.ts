// A hostile OpenID provider for tests of what reaches a terminal or the window: a small node:http server on
// 127.0.0.1 with discovery, a JWKS, the device authorization grant (RFC 8628) and a token endpoint. It approves
// a device sign-in at the first poll with an ID token whose display name carries terminal escape sequences,
// and answers every refresh with HTTP 400 `invalid_grant` whose `error_description` carries them too. Not the
// demo: the demo behaves like a stock provider, and this one attacks. What the device authorization answer
// says can be changed per test (`deviceAnswer`), for the checks of verification addresses.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** ESC sequences that set the window title, clear the screen and print a hyperlink (OSC 8) to another site; BEL; 8-bit CSI and OSC (C1); NEL; DEL; a right-to-left override; a line separator. */
export const HOSTILE_TEXT = 'A\x1b]0;pwned\x07B\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x9b31m\x9d0;c1\x07\x85\x7f\u202eexe.gnp\u2028Z';
export const HOSTILE_NAME = `Mallory ${HOSTILE_TEXT}`;
export const HOSTILE_DESCRIPTION = `The grant was revoked ${HOSTILE_TEXT}\nSigned in as Administrator`;

export interface HostileProvider {
  issuer: string;
  clientId: string;
  /** The access token the device sign-in issued. */
  accessToken: string;
  /** Overrides of the device authorization answer (RFC 8628 §3.2). */
  deviceAnswer: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startHostileProvider(): Promise<HostileProvider> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const clientId = 'hostile-client';
  const accessToken = randomBytes(24).toString('base64url');
  const provider: HostileProvider = { issuer: '', clientId, accessToken, deviceAnswer: {}, close: async () => {} };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const formOf = async (req: IncomingMessage) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    return new URLSearchParams(body);
  };
  const idToken = () =>
    new SignJWT({ name: HOSTILE_NAME, email: 'mallory@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(provider.issuer)
      .setAudience(clientId)
      .setSubject('mallory-1')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', provider.issuer);
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/authorize`,
          token_endpoint: `${provider.issuer}/token`,
          device_authorization_endpoint: `${provider.issuer}/device/code`,
          jwks_uri: `${provider.issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none'],
        });
      }
      if (url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
      if (url.pathname === '/device/code' && req.method === 'POST') {
        return json(res, 200, { device_code: 'dc-1', user_code: 'WDJB-MJHT', verification_uri: `${provider.issuer}/device`, expires_in: 600, interval: 1, ...provider.deviceAnswer });
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        const form = await formOf(req);
        if (form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:device_code') {
          return json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 600, refresh_token: 'rt-hostile', scope: form.get('scope') ?? 'openid offline_access', id_token: await idToken() });
        }
        return json(res, 400, { error: 'invalid_grant', error_description: HOSTILE_DESCRIPTION });
      }
      json(res, 404, { error: 'not_found' });
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  provider.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.close = () => new Promise((resolve) => server.close(() => resolve()));
  return provider;
}
