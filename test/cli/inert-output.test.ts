// What a provider writes never drives the terminal: a hostile provider's display name and refresh error carry
// ESC sequences (window title, clear screen, an OSC 8 hyperlink), BEL, C1 controls, DEL, a right-to-left
// override and a line separator. The real `latchkey` process's stdout and stderr are checked byte by byte;
// the access token and the header line it prints on purpose come out exactly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccount } from '../../src/core/index.ts';
import { CLI_MAIN, ROOT } from '../helpers/cli.ts';
import { startHostileProvider, type HostileProvider } from '../helpers/hostile-provider.ts';

interface RawResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

function runRaw(args: string[], env: NodeJS.ProcessEnv): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, cwd: ROOT });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

/** Every byte a terminal would act on, with its offset: C0 controls but the newline, DEL, C1 controls (UTF-8 C2 80–9F), and the bidi, format and separator characters. */
function activeBytes(output: Buffer): string[] {
  const found: string[] = [];
  for (let at = 0; at < output.length; at++) {
    const byte = output[at]!;
    if ((byte < 0x20 && byte !== 0x0a) || byte === 0x7f) found.push(`${at}: 0x${byte.toString(16)}`);
    if (byte === 0xc2 && output[at + 1]! >= 0x80 && output[at + 1]! <= 0x9f) found.push(`${at}: C1 0x${output[at + 1]!.toString(16)}`);
  }
  // Not valid UTF-8 would hide a lone 8-bit control: the output must decode as it is.
  const text = new TextDecoder('utf-8', { fatal: true }).decode(output);
  for (const match of text.matchAll(/[\p{Cf}\p{Zl}\p{Zp}]/gu)) found.push(`U+${match[0].codePointAt(0)!.toString(16).toUpperCase()} at char ${match.index}`);
  return found;
}

describe('provider text on the terminal', () => {
  let provider: HostileProvider;
  let dataDir: string;
  const service = `latchkey-test-inert-${randomUUID()}`;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    provider = await startHostileProvider();
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-inert-'));
    env = {
      ...process.env,
      AUTH_ISSUER: provider.issuer,
      AUTH_CLIENT_ID: provider.clientId,
      API_BASE_URL: `${provider.issuer}/api`,
      AUTH_KEYCHAIN_SERVICE: service,
      AUTH_DATA_DIR: dataDir,
      LATCHKEY_LOG_LEVEL: '',
    };
  });

  afterAll(async () => {
    const account = keychainAccount({ clientId: provider.clientId, issuer: `${provider.issuer}/` });
    for (const name of [account, keychainAccount({ clientId: provider.clientId, issuer: provider.issuer })]) {
      await keytar.deletePassword(service, name);
      await keytar.deletePassword(service, `${name}#access-token`);
    }
    await provider?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the display name in "Signed in as …" and the refresh error’s description reach stdout and stderr inert, byte by byte; the token and header line exactly', async () => {
    const login = await runRaw(['login', '--device'], env);
    expect(login.code, login.stderr.toString()).toBe(0);
    expect(activeBytes(login.stdout)).toEqual([]);
    expect(activeBytes(login.stderr)).toEqual([]);
    // The site of the verification address on a line of its own.
    const prompt = login.stdout.toString().split('\n');
    expect(prompt[prompt.indexOf("The sign-in page is on this site (check that it is your provider's):") + 1]).toBe(new URL(provider.issuer).host);
    const signedIn = login.stdout.toString().split('\n').find((line) => line.startsWith('Signed in as '));
    // The name is all there, each escape written out where the character was.
    expect(signedIn).toBe(
      'Signed in as Mallory A\\u001b]0;pwned\\u0007B\\u001b[2J\\u001b]8;;https://evil.example/\\u0007click\\u001b]8;;\\u0007\\u009b31m\\u009d0;c1\\u0007\\u0085\\u007f\\u202eexe.gnp\\u2028Z (mallory-1)',
    );

    const status = await runRaw(['status'], env);
    expect(status.code, status.stderr.toString()).toBe(0);
    expect(activeBytes(status.stdout)).toEqual([]);
    expect(status.stdout.toString()).toContain('Signed in as Mallory A\\u001b]0;pwned');
    const json = await runRaw(['status', '--json'], env);
    expect(activeBytes(json.stdout)).toEqual([]);
    // Still JSON, meaning the same name.
    expect((JSON.parse(json.stdout.toString()) as { user: { name: string } }).user.name).toBe(`Mallory A\x1b]0;pwned\x07B\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x9b31m\x9d0;c1\x07\x85\x7f\u202eexe.gnp\u2028Z`);

    const token = await runRaw(['token'], env);
    expect(token.code, token.stderr.toString()).toBe(0);
    expect(token.stdout.equals(Buffer.from(`${provider.accessToken}\n`))).toBe(true);
    const headers = await runRaw(['headers', `${provider.issuer}/api/me`], env);
    expect(headers.code, headers.stderr.toString()).toBe(0);
    expect(headers.stdout.equals(Buffer.from(`Authorization: Bearer ${provider.accessToken}\n`))).toBe(true);

    const refresh = await runRaw(['token', '--refresh'], env);
    expect(refresh.code).toBe(1);
    expect(refresh.stdout.length).toBe(0);
    expect(activeBytes(refresh.stderr)).toEqual([]);
    const lines = refresh.stderr.toString().split('\n');
    expect(lines.some((line) => line.includes('invalid_grant — The grant was revoked A\\u001b]0;pwned\\u0007B\\u001b[2J\\u001b]8;;https://evil.example/'))).toBe(true);
    // The provider's newline does not start a line of its own: its words stay on the line that quotes them.
    expect(lines.some((line) => line.startsWith('Signed in as Administrator'))).toBe(false);
    expect(refresh.stderr.toString()).toContain('\\u000aSigned in as Administrator');
  });

  it.each([
    ['plain http to another machine', 'http://login.example.com/device', 'it is plain http to login.example.com, which is not this machine (https is required; http only on loopback)'],
    ['a right-to-left override', 'https://login.example.com/\u202emoc.live//:sptth', 'it holds spaces, control characters, or invisible or direction-changing characters (such as U+202E)'],
  ])('a verification address with %s is refused with a clear message naming it, and nothing reaches the terminal raw', async (_name, address, problem) => {
    provider.deviceAnswer = { verification_uri: address };
    try {
      const login = await runRaw(['login', '--device'], env);
      expect(login.code).not.toBe(0);
      expect(activeBytes(login.stdout)).toEqual([]);
      expect(activeBytes(login.stderr)).toEqual([]);
      // No prompt was shown: nobody is sent there.
      expect(login.stdout.toString()).not.toContain('enter the code');
      const said = login.stderr.toString();
      expect(said).toContain(`with the verification address "${address.replace('\u202e', '\\u202e')}", which Latchkey does not show: ${problem}`);
    } finally {
      provider.deviceAnswer = {};
    }
  });
});
