import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DEMO_PROOF_PATH, DEMO_SECRET_FILE as SECRET_FILE, demoProofInput } from '../shared/constants.ts';
import { writeFileAtomic } from './atomic-file.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The demo's proof-of-identity secret: 32 random bytes, generated on first
 * start and kept (mode 0600) in `<dataDir>/instance-secret`, so the app can
 * tell its own demo provider — `npm run idp` with the same data folder — from
 * any program that answers discovery with the demo's issuer on its port.
 */
export async function loadOrCreateDemoSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, SECRET_FILE);
  const saved = await readDemoSecret(dataDir);
  if (saved) return saved;
  const secret = randomBytes(32).toString('hex');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, secret);
  return secret;
}

/** The secret a demo provider with this data folder holds, or undefined when none has started there. */
export async function readDemoSecret(dataDir: string): Promise<string | undefined> {
  try {
    const saved = (await readFile(join(dataDir, SECRET_FILE), 'utf8')).trim();
    return /^[0-9a-f]{64}$/.test(saved) ? saved : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** HMAC-SHA256 of the issuer's origin and the challenge under the secret: the secret itself never crosses the socket. */
export function demoProof(secret: string, issuer: string, challenge: string): string {
  return createHmac('sha256', secret).update(demoProofInput(issuer, challenge)).digest('hex');
}

/** True when `proof` is the answer to `challenge` asked of `issuer` under `secret` (compared in constant time). */
export function isDemoProof(secret: string, issuer: string, challenge: string, proof: unknown): boolean {
  if (typeof proof !== 'string') return false;
  const expected = Buffer.from(demoProof(secret, issuer, challenge));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Serves `GET DEMO_PROOF_PATH?challenge=<hex>` with `{ proof }` for `issuer` and hands every other request to `next`. */
export function answeringDemoProof(secret: string, issuer: string, next: Handler): Handler {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== DEMO_PROOF_PATH) return next(req, res);
    const challenge = url.searchParams.get('challenge') ?? '';
    if (req.method !== 'GET' || !/^[0-9a-f]{32,128}$/.test(challenge)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Send GET with a hex challenge.');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ proof: demoProof(secret, issuer, challenge) }));
  };
}
