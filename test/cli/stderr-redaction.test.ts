// Every line the real `latchkey` process writes to stderr goes through the log's redaction: whatever a
// message quotes — an argument, a path, a provider's words — no secret-shaped value leaves verbatim.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const SECRET = 'opaque-SECRET-value-0123456789';
/** What the log's redaction shows instead of a secret: the first 6 hex characters of its SHA-256. */
const fingerprint = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 6);

describe('latchkey stderr redaction', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-stderr-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv) => ({ ...process.env, AUTH_DATA_DIR: dataDir, AUTH_KEYCHAIN_SERVICE: 'latchkey-test-stderr', ...extra });

  it('a usage message echoing an argument shows its fingerprint, not the value', async () => {
    const result = await runCli(['login', '--timeout', `refresh_token=${SECRET}`], env({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout');
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stderr).toContain(fingerprint(SECRET));
  });

  it('a configuration error quoting a path with a secret-shaped part shows its fingerprint, not the value', async () => {
    const result = await runCli(['status'], env({ AUTH_CA_FILE: join(dataDir, `access_token=${SECRET}.pem`) }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('AUTH_CA_FILE');
    expect(result.stderr).not.toContain(SECRET);
  });
});
