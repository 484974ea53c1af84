/**
 * GitHub answers token-endpoint errors (`bad_refresh_token`,
 * `bad_verification_code`, `incorrect_client_credentials`) with HTTP 200 and
 * an error body (docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors).
 * RFC 6749 §5.2 says an error is a 400; a 2xx whose body carries `error` and
 * no `access_token` is the same refusal, so it is handed on as a 400 with the
 * same body, and judged by the one rule for every provider. Any other answer
 * is returned unchanged.
 */
export async function refusalAsError(response: Response): Promise<Response> {
  if (response.status < 200 || response.status > 299) return response;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return response;
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return response;
  }
  if (!isRefusalBody(body)) return response;
  const headers = new Headers(response.headers);
  headers.set('x-latchkey-original-status', String(response.status));
  await response.body?.cancel();
  return new Response(JSON.stringify(body), { status: 400, statusText: 'Bad Request', headers });
}

function isRefusalBody(body: unknown): body is { error: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { error, access_token: accessToken } = body as { error?: unknown; access_token?: unknown };
  return typeof error === 'string' && error !== '' && accessToken === undefined;
}
