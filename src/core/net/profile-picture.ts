import type { Logger } from '../../shared/logger.ts';
import type { HttpClient } from './http.ts';

/** A profile picture is a small image; anything larger is not shown. */
export const MAX_PICTURE_BYTES = 256 * 1024;
const MAX_REDIRECTS = 3;
const PICTURE_TIMEOUT_MS = 10_000;

export interface ProfilePictureDeps {
  /** The core's HTTP client: its TLS rules (always verified, the configured roots) and its routes (proxies). */
  http: Pick<HttpClient, 'fetch'>;
  maxBytes?: number;
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * The user's profile picture (the `picture` claim, OpenID Connect Core §5.1) as a `data:` URL the window can
 * show under a CSP whose `img-src` is only the app's own origin and `data:` — so a page that got an access
 * token cannot send it anywhere as an image address. Fetched here, not by the page: https only (each redirect
 * too), over the core's HTTP client, without cookies or credentials; the answer must be 200 with an `image/*`
 * content type and at most `maxBytes` (256 KiB), read no further than that. Anything else resolves to
 * undefined (logged): the window shows initials instead. Never rejects.
 */
export async function fetchProfilePicture(picture: string, deps: ProfilePictureDeps): Promise<string | undefined> {
  const maxBytes = deps.maxBytes ?? MAX_PICTURE_BYTES;
  const notShown = (why: string) => {
    deps.logger?.info('profile picture not shown', { why });
    return undefined;
  };
  const signal = AbortSignal.timeout(deps.timeoutMs ?? PICTURE_TIMEOUT_MS);
  try {
    let url = URL.canParse(picture) ? new URL(picture) : undefined;
    for (let hop = 0; url; hop++) {
      if (url.protocol !== 'https:') return notShown(`not https (${url.protocol})`);
      if (url.username !== '' || url.password !== '') return notShown('the address carries credentials');
      const response = await deps.http.fetch(url.href, { redirect: 'manual', credentials: 'omit', headers: { accept: 'image/*' }, signal });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) return notShown('too many redirects');
        url = URL.canParse(location, url.href) ? new URL(location, url.href) : undefined;
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        return notShown(`HTTP ${response.status}`);
      }
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!/^image\/[a-z0-9.+-]+$/.test(type)) {
        await response.body?.cancel();
        return notShown(`content type "${type}" is not an image`);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await response.body?.cancel();
        return notShown(`larger than ${maxBytes} bytes`);
      }
      const body = await readAtMost(response, maxBytes);
      if (!body) return notShown(`larger than ${maxBytes} bytes`);
      return `data:${type};base64,${body.toString('base64')}`;
    }
    return notShown('not a web address');
  } catch (error) {
    return notShown(`the request failed (${(error as Error).message})`);
  }
}

/** `fetchProfilePicture` remembering the last picture asked for: the window asks again at each state it renders. */
export function createProfilePictures(deps: ProfilePictureDeps): (picture: string) => Promise<string | undefined> {
  let last: { picture: string; shown: Promise<string | undefined> } | undefined;
  return (picture) => {
    if (last?.picture !== picture) last = { picture, shown: fetchProfilePicture(picture, deps) };
    return last.shown;
  };
}

/** The body, or undefined as soon as it grows past `maxBytes` (the rest is never read). */
async function readAtMost(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
}
