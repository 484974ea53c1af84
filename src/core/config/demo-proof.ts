import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PROOF_PATH, DEMO_SECRET_FILE, demoProofInput } from '../../shared/constants.ts';
import { AuthError } from '../errors.ts';

export type DemoProbe = 'ours' | 'free' | 'taken';

/**
 * What is listening at the demo issuer: our demo provider, nothing, or
 * something else. Ours answers a fresh random challenge with its HMAC under
 * the secret in the demo's data folder (which only this user can read), bound
 * to the issuer asked (`demoProofInput`), so relaying the challenge to a real
 * demo elsewhere does not pass; a discovery document naming the demo issuer
 * proves nothing, since any program on the port can serve one.
 */
export async function probeDemoProvider(issuer: string, dataDir: string, fetchImpl: typeof fetch = fetch, timeoutMs = 2_000): Promise<DemoProbe> {
  const challenge = randomBytes(32).toString('hex');
  let response: Response;
  try {
    response = await fetchImpl(new URL(`${DEMO_PROOF_PATH}?challenge=${challenge}`, issuer), { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (error) {
    return isConnectionRefused(error) ? 'free' : 'taken';
  }
  try {
    const [body, secret] = await Promise.all([response.json() as Promise<{ proof?: unknown }>, readDemoSecret(dataDir)]);
    return response.ok && secret !== undefined && isProof(secret, demoProofInput(issuer, challenge), body.proof) ? 'ours' : 'taken';
  } catch {
    return 'taken';
  }
}

/**
 * Before the core trusts the demo issuer (development, no provider
 * configured): a program squatting the demo's port is never used as the
 * identity provider. Nothing listening is left to discovery, which says how to
 * start the demo.
 */
export async function assertDemoIsOurs(issuer: string, dataDir: string, fetchImpl: typeof fetch): Promise<void> {
  if ((await probeDemoProvider(issuer, dataDir, fetchImpl)) !== 'taken') return;
  throw new AuthError(
    'provider_unreachable',
    `The program answering at ${issuer} is not Latchkey's demo provider (it could not prove it holds the secret in ${dataDir}), so it is not used to sign you in. ` +
      'Stop it, or start the demo with `npm run idp` and the same DEMO_DATA_DIR, or set DEMO_IDP_PORT and DEMO_API_PORT to free ports.',
  );
}

async function readDemoSecret(dataDir: string): Promise<string | undefined> {
  try {
    const saved = (await readTextFile(join(dataDir, DEMO_SECRET_FILE))).trim();
    return /^[0-9a-f]{64}$/.test(saved) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function isProof(secret: string, input: string, proof: unknown): boolean {
  if (typeof proof !== 'string') return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(input).digest('hex'));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function isConnectionRefused(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  }
  return false;
}

/** Callback fs, not fs/promises: this file is in the CLI's start-up chunk, and that module (with the readline code it loads) would cost every command. */
function readTextFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => readFile(path, 'utf8', (error, text) => (error ? reject(error) : resolve(text))));
}
