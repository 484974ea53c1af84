// A stand-in for GitHub's device flow, written from GitHub's documentation:
//   https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow
//   (steps 1–3, "Rate limits for the device flow" and "Error codes for the device flow")
//   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//   https://docs.github.com/en/rest/users/users#get-the-authenticated-user (GET /user with the token)
// As documented:
// - POST /login/device/code (client_id, scope) answers device_code, user_code, verification_uri
//   (https://github.com/login/device), expires_in 900, interval 5;
// - POST /login/oauth/access_token (client_id, device_code, grant_type
//   urn:ietf:params:oauth:grant-type:device_code) answers the token — or an error
//   (authorization_pending, slow_down with a new `interval`, expired_token, access_denied, …) —
//   with HTTP 200 and an `error` member;
// - both answer application/x-www-form-urlencoded unless the request says `Accept: application/json`.
// A GitHub App with expiring user tokens adds refresh_token, expires_in and refresh_token_expires_in.
// GitHub publishes no authorization server metadata (RFC 8414); the document served at
// /.well-known/openid-configuration here stands in for what a provider preset supplies.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHubRequest {
  path: string;
  accept: string | undefined;
  form: URLSearchParams;
  at: number;
}

export interface GitHubStandIn {
  issuer: string;
  requests: GitHubRequest[];
  /** The user enters the code and authorizes the app: the next poll gets the token. */
  authorize(): void;
  close(): Promise<void>;
}

export const GITHUB_ACCESS_TOKEN = 'ghu_16C7e42F292c6912E7710c838347Ae178B4a';
export const GITHUB_REFRESH_TOKEN = 'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498';

export async function startGitHubStandIn(): Promise<GitHubStandIn> {
  const requests: GitHubRequest[] = [];
  let authorized = false;
  const server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return send(res, {
        issuer,
        authorization_endpoint: `${issuer}/login/oauth/authorize`,
        token_endpoint: `${issuer}/login/oauth/access_token`,
        device_authorization_endpoint: `${issuer}/login/device/code`,
        response_types_supported: ['code'],
      }, true);
    }
    if (req.method === 'GET' && path === '/user') {
      if (req.headers.authorization !== `Bearer ${GITHUB_ACCESS_TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }));
        return;
      }
      return send(res, { login: 'octocat', id: 1, avatar_url: 'https://github.com/images/error/octocat_happy.gif', name: 'monalisa octocat', email: 'octocat@github.com' }, true);
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = new URLSearchParams(body);
    const accept = req.headers.accept;
    requests.push({ path, accept, form, at: Date.now() });
    const json = accept?.includes('application/json') ?? false;
    if (req.method === 'POST' && path === '/login/device/code') {
      return send(res, { device_code: '3584d83530557fdd1f46af8289938c8ef79f9dc5', user_code: 'WDJB-MJHT', verification_uri: 'https://github.com/login/device', expires_in: 900, interval: 5 }, json);
    }
    if (req.method === 'POST' && path === '/login/oauth/access_token') {
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:device_code') return send(res, { error: 'unsupported_grant_type', error_description: 'The grant type is not supported.' }, json);
      if (form.get('device_code') !== '3584d83530557fdd1f46af8289938c8ef79f9dc5') return send(res, { error: 'incorrect_device_code', error_description: 'The device_code provided is not valid.' }, json);
      if (!authorized) {
        return send(res, { error: 'authorization_pending', error_description: 'The authorization request is still pending.', error_uri: 'https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow' }, json);
      }
      return send(res, { access_token: GITHUB_ACCESS_TOKEN, expires_in: 28800, refresh_token: GITHUB_REFRESH_TOKEN, refresh_token_expires_in: 15897600, scope: '', token_type: 'bearer' }, json);
    }
    res.writeHead(404).end('Not Found');
  }

  return {
    issuer,
    requests,
    authorize: () => {
      authorized = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** HTTP 200 always, as GitHub answers the device flow's errors too; JSON only when asked for. */
function send(res: ServerResponse, body: Record<string, unknown>, json: boolean): void {
  if (json) {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    return;
  }
  const form = new URLSearchParams(Object.entries(body).map(([key, value]): [string, string] => [key, String(value)]));
  res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }).end(form.toString());
}
