import type { ApiErrorCode } from '../shared/errors.ts';
import type { AuthApi } from '../shared/ipc.ts';

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
 * `fetch` with the user's access token as a Bearer credential (RFC 6750 §2.1).
 * When the API answers 401 (RFC 6750 §3.1, an expired or revoked token), it asks
 * main for a newer token — naming the one that was rejected, so concurrent
 * callers share one refresh — and retries once. A second 401 is an error, never
 * another round. Pure: `auth` and `fetchImpl` are parameters, so it is testable
 * against a plain HTTP server.
 */
export async function apiFetch(
  auth: Pick<AuthApi, 'getAccessToken' | 'refreshAccessToken'>,
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit = {},
): Promise<Response> {
  const token = await auth.getAccessToken();
  const first = await send(fetchImpl, url, init, token);
  if (first.status !== 401) return first;
  await first.body?.cancel();

  const renewed = await auth.refreshAccessToken(token);
  const second = await send(fetchImpl, url, init, renewed);
  if (second.status !== 401) return second;
  await second.body?.cancel();
  throw new ApiError('api_unauthorized', 'The API refused the renewed access token as well. Sign out and sign in again.', { status: 401 });
}

async function send(fetchImpl: typeof fetch, url: string, init: RequestInit, token: string): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  try {
    return await fetchImpl(url, { ...init, headers, credentials: 'omit' });
  } catch (error) {
    throw new ApiError('api_unreachable', `The API at ${new URL(url).origin} could not be reached. Check that it is running and try again.`, { cause: error });
  }
}
