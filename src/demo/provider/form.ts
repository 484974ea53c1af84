import type { IncomingMessage } from 'node:http';

/** Reads an `application/x-www-form-urlencoded` body; undefined when it exceeds `maxBytes`. */
export async function readForm(req: IncomingMessage, maxBytes = 64 * 1024): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) return undefined;
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
