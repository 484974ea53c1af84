// Runs the real `latchkey` command (src/cli/main.ts) as a child process, for the CLI tests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../../src/shared/constants.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = join(ROOT, 'src/cli/main.ts');
/** A stand-in for the user's browser that completes the demo's sign-in form (support/browser-command.ts). */
export const FAKE_BROWSER = `${process.execPath} ${join(ROOT, 'support/browser-command.ts')}`;
export const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a CLI signed in to `demo` as any configured provider
 * would be (issuer, client, audience, API), with its own keychain service and
 * data folder, the stand-in browser, and its cache folder (the compile cache)
 * inside the data folder, where the leak checks look.
 */
export function demoCliEnv(demo: { issuer: string; apiUrl: string }, where: { service: string; dataDir: string }, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AUTH_ISSUER: demo.issuer,
    AUTH_CLIENT_ID: DEMO_CLIENT_ID,
    AUTH_AUDIENCE: DEMO_AUDIENCE,
    API_BASE_URL: demo.apiUrl,
    AUTH_KEYCHAIN_SERVICE: where.service,
    AUTH_DATA_DIR: where.dataDir,
    BROWSER: FAKE_BROWSER,
    XDG_CACHE_HOME: join(where.dataDir, 'cache'),
    ...extra,
  };
}

/** Starts `latchkey args…`; `result` settles when it exits. `onExit` sees its output (leak checks collect it). */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onExit?: (command: string, result: CliResult) => void,
): { child: ChildProcessWithoutNullStreams; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const done = { code, signal, stdout, stderr };
      onExit?.(['latchkey', ...args].join(' '), done);
      resolve(done);
    });
  });
  return { child, result };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, onExit?: (command: string, result: CliResult) => void): Promise<CliResult> {
  return startCli(args, env, onExit).result;
}

export interface ShownCode {
  verificationUri: string;
  userCode: string;
  complete?: string;
}

/** Waits until the CLI printed the address and the code (each on a line of its own) and returns them. */
export function deviceCodePrinted(child: ReturnType<typeof startCli>['child']): Promise<ShownCode> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split('\n');
      // The prompt is complete once it says it waits.
      if (!lines.includes('Waiting for the sign-in…')) return;
      const at = lines.indexOf('and enter the code:');
      child.stdout.off('data', onData);
      const completeAt = lines.indexOf('Or open this address, which carries the code:');
      resolve({ verificationUri: lines[at - 1]!, userCode: lines[at + 1]!, ...(completeAt >= 0 ? { complete: lines[completeAt + 1]! } : {}) });
    };
    child.stdout.on('data', onData);
    child.once('close', () => reject(new Error(`The CLI exited before printing a code:\n${out}`)));
  });
}
