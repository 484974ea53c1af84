/**
 * A token endpoint's 2xx answer, read once before openid-client checks it:
 * its JSON body (undefined when it is not JSON), and the response to hand on.
 *
 * GitHub answers token-endpoint errors (`bad_refresh_token`,
 * `bad_verification_code`, `incorrect_client_credentials`) with HTTP 200 and
 * an error body (docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors).
 * RFC 6749 §5.2 says an error is a 400; a 2xx whose body carries `error` and
 * no `access_token` is the same refusal, so it is handed on as a 400 with the
 * same body, and judged by the one rule for every provider. Any other answer
 * is handed on unchanged.
 */
export async function readTokenAnswer(response: Response): Promise<{ response: Response; body?: Record<string, unknown> }> {
  if (response.status < 200 || response.status > 299) return { response };
  let body: unknown;
  try {
    body = await response.clone().json();
  } catch {
    return { response };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { response };
  const parsed = body as Record<string, unknown>;
  if (typeof parsed.error !== 'string' || parsed.error === '' || parsed.access_token !== undefined) return { response, body: parsed };
  const headers = new Headers(response.headers);
  headers.set('x-latchkey-original-status', String(response.status));
  await response.body?.cancel();
  return { response: new Response(JSON.stringify(parsed), { status: 400, statusText: 'Bad Request', headers }), body: parsed };
}

/** `fetch` with every token-endpoint answer (a request with `grant_type`) passed through `readTokenAnswer`. */
export function refusalsAsErrors(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const answer = await fetch(input, init);
    const body = init?.body;
    return body instanceof URLSearchParams && body.has('grant_type') ? (await readTokenAnswer(answer)).response : answer;
  }) as typeof globalThis.fetch;
}
