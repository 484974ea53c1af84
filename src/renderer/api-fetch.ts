import type { ApiErrorCode } from '../shared/errors.ts';
import { asksForDpopNonce } from '../shared/dpop-challenge.ts';
import type { ApiRequestHeaders } from '../shared/auth-state.ts';
import type { AuthApi } from '../shared/ipc.ts';
import { parseStepUpChallenge, type StepUpRequest } from '../shared/step-up.ts';

/** An API call that failed in a way the user should see: refused twice, or not reachable at all. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: number | undefined;

  constructor(code: ApiError['code'], message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

/**
 * `fetch` with the headers main gives for this one call (`auth.requestHeaders`):
 * a bound access token with a fresh DPoP proof (RFC 9449 §7.1) or a Bearer
 * token (RFC 6750 §2.1); the DPoP key never reaches the page. When the API
 * answers 401 asking for a DPoP nonce (RFC 9449 §9), the call is sent once more
 * with a proof carrying it. When it answers 401 otherwise (RFC 6750 §3.1, an
 * expired or revoked token), it asks main for a newer token — naming the one
 * that was rejected, so concurrent callers share one refresh — and retries
 * once. When its 401 asks for a stronger or more recent sign-in instead (RFC
 * 9470 `insufficient_user_authentication`, or an Entra claims challenge), that
 * is no refresh case: `onStepUp` tells the person why, main opens the browser
 * for that sign-in of the same account (`auth.stepUp`), and the call is sent
 * once more. A second 401 is an error, never another round. Pure: `auth` and
 * `fetchImpl` are parameters, so it is testable against a plain HTTP server.
 */
export async function apiFetch(
  auth: Pick<AuthApi, 'requestHeaders' | 'refreshAccessToken' | 'stepUp'>,
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit = {},
  options: { onStepUp?: (request: StepUpRequest) => void } = {},
): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  let sent = await auth.requestHeaders({ method, url });
  let response = await sendWithNonce(auth, fetchImpl, url, init, method, sent);
  if (response.answer.status !== 401) return response.answer;
  await response.answer.body?.cancel();

  const challenge = response.answer.headers.get('www-authenticate');
  const stepUp = parseStepUpChallenge(challenge);
  if (stepUp && challenge) {
    options.onStepUp?.(stepUp);
    await auth.stepUp(challenge);
    sent = await auth.requestHeaders({ method, url });
    response = await sendWithNonce(auth, fetchImpl, url, init, method, sent);
    if (response.answer.status !== 401) return response.answer;
    await response.answer.body?.cancel();
    const again = parseStepUpChallenge(response.answer.headers.get('www-authenticate'));
    throw new ApiError(
      'api_unauthorized',
      again
        ? `The API asked for a stronger sign-in again, after you signed in again${again.reason ? ` (${again.reason})` : ''}. Latchkey asks only once for one call; try the action again, or ask whoever runs the API what it needs.`
        : 'The API refused the access token of your new sign-in as well. Sign out and sign in again.',
      { status: 401 },
    );
  }

  await auth.refreshAccessToken(tokenOf(response.sent));
  sent = await auth.requestHeaders({ method, url });
  response = await sendWithNonce(auth, fetchImpl, url, init, method, sent);
  if (response.answer.status !== 401) return response.answer;
  await response.answer.body?.cancel();
  throw new ApiError('api_unauthorized', 'The API refused the renewed access token as well. Sign out and sign in again.', { status: 401 });
}

/** One call, and once more with the nonce when the API's 401 asks for one. */
async function sendWithNonce(
  auth: Pick<AuthApi, 'requestHeaders'>,
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  method: string,
  headers: ApiRequestHeaders,
): Promise<{ answer: Response; sent: ApiRequestHeaders }> {
  const answer = await send(fetchImpl, url, init, headers);
  const nonce = answer.headers.get('dpop-nonce');
  if (answer.status !== 401 || headers.DPoP === undefined || !nonce || !asksForDpopNonce(answer.headers.get('www-authenticate'))) return { answer, sent: headers };
  await answer.body?.cancel();
  const again = await auth.requestHeaders({ method, url, nonce });
  return { answer: await send(fetchImpl, url, init, again), sent: again };
}

function tokenOf(headers: ApiRequestHeaders): string {
  return headers.Authorization.replace(/^\S+\s+/, '');
}

async function send(fetchImpl: typeof fetch, url: string, init: RequestInit, credentials: ApiRequestHeaders): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(credentials)) if (value !== undefined) headers.set(name, value);
  try {
    return await fetchImpl(url, { ...init, headers, credentials: 'omit' });
  } catch (error) {
    throw new ApiError('api_unreachable', `The API at ${new URL(url).origin} could not be reached. Check that it is running and try again.`, { cause: error });
  }
}
