// The `latchkey token` and `latchkey --help` figures of `npm run bench`, beside a bare
// `node -e 0`: the bundled CLI as a script runs it, against its own demo provider (5-minute access tokens, so every call
// falls inside one token's life) and the real OS keychain.
import { fork, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { DemoStats } from '../src/demo/index.ts';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../src/shared/constants.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface CliFigures {
  /** Median wall time of sequential `latchkey token` processes with a valid cached token. */
  token_ms: number;
  /** Median wall time of `latchkey --help`: the CLI's own start, with no keychain or file read. */
  help_ms: number;
  /** Median wall time of `node -e 0`: what any Node process costs here. */
  node_floor_ms: number;
  /** Token requests the provider saw for the sequential calls plus parallel ones, within one access token's life. */
  provider_requests: number;
  sequential: number;
  parallel: number;
}

/** Runs `rounds` sequential and `parallel` concurrent `latchkey token` after one `latchkey login`. */
export async function measureCli(options: { rounds: number; parallel: number; median(values: number[]): number }): Promise<CliFigures> {
  await build({ root: ROOT, configFile: join(ROOT, 'vite.cli.config.ts'), logLevel: 'warn' });
  const demo = fork(new URL('./demo-process.ts', import.meta.url), { env: { ...process.env, BENCH_ACCESS_TOKEN_TTL: '300' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const message = <T>(type: string) => new Promise<T>((resolve) => demo.on('message', (m: { type: string }) => m.type === type && resolve(m as T)));
  const stats = async () => {
    const reply = message<{ stats: DemoStats }>('stats');
    demo.send({ type: 'stats' });
    return (await reply).stats;
  };
  const { issuer, apiUrl } = await message<{ issuer: string; apiUrl: string }>('ready');
  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-bench-cli-'));
  const env = {
    ...process.env,
    AUTH_ISSUER: issuer,
    AUTH_CLIENT_ID: DEMO_CLIENT_ID,
    AUTH_AUDIENCE: DEMO_AUDIENCE,
    API_BASE_URL: apiUrl,
    AUTH_KEYCHAIN_SERVICE: `latchkey-bench-cli-${process.pid}`,
    AUTH_DATA_DIR: dataDir,
    BROWSER: `${process.execPath} ${join(ROOT, 'support/browser-command.ts')}`,
  };
  const timed = (args: string[]) =>
    new Promise<{ ms: number; code: number | null }>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ ms: performance.now() - started, code }));
    });
  const latchkey = (...args: string[]) => timed([join(ROOT, 'bin/latchkey.js'), ...args]);
  try {
    if ((await latchkey('login', '--timeout', '60')).code !== 0) throw new Error('latchkey login failed');
    const floor: number[] = [];
    const help: number[] = [];
    const token: number[] = [];
    const before = (await stats()).tokenRequests;
    // Interleaved, so a busy moment of the machine weighs on all three alike.
    for (let i = 0; i < options.rounds; i += 1) {
      floor.push((await timed(['-e', '0'])).ms);
      const usage = await latchkey('--help');
      if (usage.code !== 0) throw new Error(`latchkey --help exited ${usage.code}`);
      help.push(usage.ms);
      const run = await latchkey('token');
      if (run.code !== 0) throw new Error(`latchkey token exited ${run.code}`);
      token.push(run.ms);
    }
    const parallel = await Promise.all(Array.from({ length: options.parallel }, () => latchkey('token')));
    if (parallel.some((run) => run.code !== 0)) throw new Error('a parallel latchkey token failed');
    const providerRequests = (await stats()).tokenRequests - before;
    await latchkey('logout');
    return { token_ms: options.median(token), help_ms: options.median(help), node_floor_ms: options.median(floor), provider_requests: providerRequests, sequential: options.rounds, parallel: options.parallel };
  } finally {
    demo.send({ type: 'close' });
    await new Promise((resolve) => demo.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}
