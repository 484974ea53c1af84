// The `latchkey token`, `headers`, `status` and `--help` figures of `npm run bench` (alone: `npm run bench:cli`), each paired
// run by run with a bare `node -e 0`: the bundled CLI as a script runs it, against its own demo provider (5-minute
// access tokens, so every call falls inside one token's life) and the real OS keychain — and `token` through a
// `latchkey agent` as well. Then a CPU profile of a few
// `token` runs, summed, and its top items: where the time over a bare Node start goes.
import { fork, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { defaultLockDir, keychainAccount, loadConfig, openAccountIndex, openKeychain } from '../src/core/index.ts';
import type { DemoStats } from '../src/demo/index.ts';
import { DEMO_AUDIENCE, DEMO_CLIENT_ID } from '../src/shared/constants.ts';
import { callgrindAvailable, countEach } from './instructions.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** One command's median wall time, and that median over the median of the `node -e 0` runs it alternated with. */
export interface PairedFigure {
  ms: number;
  ratio: number;
}

/** One command's median CPU time (user and system) and peak resident memory, and each over `node -e 0`'s in the same rounds. */
export interface UsageFigure {
  user_ms: number;
  system_ms: number;
  cpu_ms: number;
  cpu_ratio: number;
  peak_mib: number;
  peak_ratio: number;
}

/** One command's instructions (millions, the median of its counts, V8's random prime search taken out), and that over `node -e 0`'s. */
export interface InstructionFigure {
  millions: number;
  ratio: number;
}

/** A profile item: the self time of one function (or Node's own: program, idle, garbage collector), summed over the profiled runs, per run. */
export interface ProfileItem {
  what: string;
  ms: number;
}

export interface CliFigures {
  /** Median wall time of `node -e 0`: what any Node process costs here. */
  node_floor_ms: number;
  /** `latchkey token` with a valid shared access token (no network). */
  token: PairedFigure;
  /** `latchkey headers URL` with the same token (a DPoP proof for the demo's bound token). */
  headers: PairedFigure;
  /** `latchkey status --json` with the same session: what a shell prompt asks. */
  status: PairedFigure;
  /** `latchkey --help`: the CLI's own start, with no keychain or file read. */
  help: PairedFigure;
  /** The floor under `token`: a bundled script that only reads the session's keychain entry over D-Bus with the CLI's own code (bench/bare-read.ts). */
  bare_read: PairedFigure;
  /** `latchkey token` through a `latchkey agent` (LATCHKEY_AGENT_SOCK): the session in the agent's memory, asked over its socket. */
  agent_token: PairedFigure;
  /** The machine's 1-minute load average before and after the paired runs: other processes move every figure. */
  load: [number, number];
  /**
   * CPU time and peak memory, each process reporting its own at exit (bench/report-usage.cjs, preloaded into all of
   * them, `node -e 0` included): the same rounds' medians. CPU moves less with the machine's load than wall time, and
   * its split says how much of a command's extra is its own work (user) and how much the kernel's (system: page
   * faults, mapping files, the socket), which differs most from one kind of machine to another.
   */
  usage: Record<'node' | 'token' | 'headers' | 'status' | 'help', UsageFigure>;
  /**
   * Instructions executed (bench/instructions.ts: callgrind, every thread, V8's random prime search taken out), the
   * median of three runs each: the same on a loaded machine or an idle one, and the ratio a faster machine's CPU
   * time tends to; or why they were not counted (no valgrind).
   */
  instructions: Record<'node' | 'token' | 'headers' | 'status' | 'help', InstructionFigure> | { skipped: string };
  /** Where one `token` spends its time (CPU profile, self time per run): the top items. */
  profile: { sampled_ms: number; top: ProfileItem[] };
  /** With ten accounts stored: `latchkey token --account NAME` (a fresh shared token) and `latchkey accounts`, each paired with `node -e 0`. */
  accounts: { stored: number; node_floor_ms: number; token_account: PairedFigure; list: PairedFigure };
  /** Token requests the provider saw for the sequential calls plus parallel ones, within one access token's life. */
  provider_requests: number;
  sequential: number;
  parallel: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Runs `rounds` × (`node -e 0`, `token`, `headers`, `status --json`, `--help`) interleaved, as many again reporting
 * their CPU time and peak memory, and `parallel` concurrent `token`, after one `latchkey login`.
 */
export async function measureCli(options: { rounds: number; parallel: number; profiled?: number }): Promise<CliFigures> {
  await build({ root: ROOT, configFile: join(ROOT, 'vite.cli.config.ts'), logLevel: 'warn' });
  await build({ root: ROOT, configFile: join(ROOT, 'vite.cli-script.config.ts'), logLevel: 'warn' });
  // The bare read, bundled with the CLI's own build settings into a folder of its own.
  const bareDir = await mkdtemp(join(tmpdir(), 'latchkey-bench-bare-'));
  await build({ root: ROOT, configFile: join(ROOT, 'vite.cli.config.ts'), logLevel: 'warn', build: { ssr: join(ROOT, 'bench/bare-read.ts'), outDir: bareDir, emptyOutDir: true, rollupOptions: { output: { entryFileNames: 'bare-read.js' } } } });
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
    // The compile cache (and anything else cached) in a folder of the bench's own, warmed by the first rounds.
    XDG_CACHE_HOME: join(dataDir, 'cache'),
    BROWSER: `${process.execPath} ${join(ROOT, 'support/browser-command.ts')}`,
  };
  // The agent's own session: signed in through it, kept in its memory, asked over its socket in a runtime folder of the bench's.
  const runtime = await mkdtemp(join(tmpdir(), 'latchkey-bench-agent-'));
  const agentEnv = { ...env, XDG_RUNTIME_DIR: runtime, LATCHKEY_AGENT_SOCK: join(runtime, 'latchkey', 'agent.sock') };
  const timed = (args: string[], runEnv: NodeJS.ProcessEnv = env) =>
    new Promise<{ ms: number; code: number | null }>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, args, { env: runEnv, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ ms: performance.now() - started, code }));
    });
  const latchkey = (...args: string[]) => timed([join(ROOT, 'bin/latchkey.js'), ...args]);
  const throughAgent = (...args: string[]) => timed([join(ROOT, 'bin/latchkey.js'), ...args], agentEnv);
  const commands: Record<'token' | 'headers' | 'status' | 'help' | 'agent_token', string[]> = {
    token: ['token'],
    headers: ['headers', `${apiUrl}/me`],
    status: ['status', '--json'],
    help: ['--help'],
    agent_token: ['token'],
  };
  const entryName = () => {
    const config = loadConfig({ env });
    const list = openAccountIndex(config, defaultLockDir()).read();
    return list.accounts.find((account) => account.sub === list.defaultSub)?.entry ?? keychainAccount(config);
  };
  try {
    if ((await latchkey('login', '--timeout', '60')).code !== 0) throw new Error('latchkey login failed');
    if ((await timed([join(ROOT, 'bin/latchkey.js'), 'agent'], { ...agentEnv, LATCHKEY_AGENT_SOCK: '' })).code !== 0) throw new Error('latchkey agent did not start');
    if ((await throughAgent('login', '--timeout', '60')).code !== 0) throw new Error('latchkey login through the agent failed');
    const floor: number[] = [];
    const times: Record<keyof typeof commands | 'bare_read', number[]> = { token: [], headers: [], status: [], help: [], agent_token: [], bare_read: [] };
    const bareRead = [join(bareDir, 'bare-read.js'), env.AUTH_KEYCHAIN_SERVICE, entryName()];
    const before = (await stats()).tokenRequests;
    const loadBefore = loadavg()[0]!;
    // Interleaved, so a busy moment of the machine weighs on all of them alike; two warm-up rounds fill the caches.
    for (let i = 0; i < options.rounds + 2; i += 1) {
      const bare = await timed(['-e', '0']);
      if (i >= 2) floor.push(bare.ms);
      for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][]) {
        const run = name === 'agent_token' ? await throughAgent(...args) : await latchkey(...args);
        if (run.code !== 0) throw new Error(`latchkey ${args[0]} exited ${run.code}`);
        if (i >= 2) times[name].push(run.ms);
      }
      const read = await timed(bareRead);
      if (read.code !== 0) throw new Error('the bare keychain read found no entry');
      if (i >= 2) times.bare_read.push(read.ms);
    }
    const loadAfter = loadavg()[0]!;
    const bin = join(ROOT, 'bin/latchkey.js');
    // The same five processes for the CPU-and-memory rounds and for the instruction counts.
    const processes = {
      node: ['-e', '0'],
      token: [bin, ...commands.token],
      headers: [bin, ...commands.headers],
      status: [bin, ...commands.status],
      help: [bin, ...commands.help],
    };
    const usage = await measureUsage(options.rounds, { env, timed }, processes);
    const canCount = callgrindAvailable();
    const instructions = canCount === true ? instructionFigures(await countEach(3, env, processes)) : { skipped: canCount };
    const parallel = await Promise.all(Array.from({ length: options.parallel }, () => latchkey('token')));
    if (parallel.some((run) => run.code !== 0)) throw new Error('a parallel latchkey token failed');
    const providerRequests = (await stats()).tokenRequests - before;
    const profileDir = join(dataDir, 'profiles');
    const profiled = options.profiled ?? 5;
    for (let i = 0; i < profiled; i += 1) await timed(['--cpu-prof', '--cpu-prof-dir', profileDir, join(ROOT, 'bin/latchkey.js'), 'token']);
    const profile = await topOfProfiles(profileDir, 12);
    const accounts = await measureTenAccounts(options.rounds, { env, timed, latchkey });
    await latchkey('logout', '--all');
    await throughAgent('logout');
    const nodeFloor = median(floor);
    const paired = (values: number[]): PairedFigure => ({ ms: round2(median(values)), ratio: round2(median(values) / nodeFloor) });
    return {
      accounts,
      node_floor_ms: round2(nodeFloor),
      token: paired(times.token),
      headers: paired(times.headers),
      status: paired(times.status),
      help: paired(times.help),
      bare_read: paired(times.bare_read),
      agent_token: paired(times.agent_token),
      load: [round2(loadBefore), round2(loadAfter)],
      usage,
      instructions,
      profile,
      provider_requests: providerRequests,
      sequential: options.rounds,
      parallel: options.parallel,
    };
  } finally {
    await throughAgent('agent', '--stop');
    await rm(runtime, { recursive: true, force: true });
    demo.send({ type: 'close' });
    await new Promise((resolve) => demo.once('exit', resolve));
    await rm(dataDir, { recursive: true, force: true });
    await rm(bareDir, { recursive: true, force: true });
  }
}

/**
 * `rounds` × each command of `args` in turn (two more rounds first, not counted), every process with
 * bench/report-usage.cjs preloaded: the medians of what they report, and each over the medians of `node`'s.
 */
async function measureUsage<Name extends string>(
  rounds: number,
  run: { env: NodeJS.ProcessEnv; timed: (args: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number | null }> },
  args: Record<Name | 'node', string[]>,
): Promise<Record<Name | 'node', UsageFigure>> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-bench-usage-'));
  // Quoted: NODE_OPTIONS splits on spaces outside double quotes.
  const preload = `--require=${JSON.stringify(join(ROOT, 'bench/report-usage.cjs'))}`;
  const env = { ...run.env, NODE_OPTIONS: [run.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') };
  const names = Object.keys(args) as (Name | 'node')[];
  const reports = new Map(names.map((name) => [name, [] as { userCPUTime: number; systemCPUTime: number; peakKiB: number }[]]));
  try {
    for (let i = 0; i < rounds + 2; i += 1) {
      for (const name of names) {
        const file = join(dir, `${name}-${i}.json`);
        const { code } = await run.timed(args[name], { ...env, BENCH_USAGE_FILE: file });
        if (code !== 0) throw new Error(`${args[name].join(' ')} exited ${code} with its usage reported`);
        if (i >= 2) reports.get(name)!.push(JSON.parse(await readFile(file, 'utf8')));
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const medians = (name: Name | 'node') => {
    const of = reports.get(name)!;
    return {
      user: median(of.map((r) => r.userCPUTime / 1000)),
      system: median(of.map((r) => r.systemCPUTime / 1000)),
      cpu: median(of.map((r) => (r.userCPUTime + r.systemCPUTime) / 1000)),
      peak: median(of.map((r) => r.peakKiB / 1024)),
    };
  };
  const node = medians('node');
  return Object.fromEntries(
    names.map((name) => {
      const m = medians(name);
      return [name, { user_ms: round2(m.user), system_ms: round2(m.system), cpu_ms: round2(m.cpu), cpu_ratio: round2(m.cpu / node.cpu), peak_mib: round2(m.peak), peak_ratio: round2(m.peak / node.peak) }];
    }),
  ) as Record<Name | 'node', UsageFigure>;
}

const FILLER_ACCOUNTS = 8;

/**
 * Ten accounts stored, then `rounds` × (`node -e 0`, `latchkey token --account alice@example.com`, `latchkey accounts`)
 * interleaved. Alice (signed in already) and Bob sign in through the demo; the demo has two users, so eight more
 * accounts are written as a sign-in leaves them — an entry in the keychain (Bob's, with its own `sub`) and a
 * record in the account index — and removed again afterwards.
 */
async function measureTenAccounts(
  rounds: number,
  run: { env: NodeJS.ProcessEnv; timed: (args: string[]) => Promise<{ ms: number; code: number | null }>; latchkey: (...args: string[]) => Promise<{ ms: number; code: number | null }> },
): Promise<CliFigures['accounts']> {
  const bob = await new Promise<number | null>((resolve) =>
    spawn(process.execPath, [join(ROOT, 'bin/latchkey.js'), 'login', '--timeout', '60'], { env: { ...run.env, LATCHKEY_TEST_LOGIN: 'bob', LATCHKEY_TEST_PASSWORD: 'builder' }, stdio: 'ignore' }).on('exit', resolve),
  );
  if (bob !== 0) throw new Error('latchkey login as bob failed');
  const config = loadConfig({ env: run.env });
  const index = openAccountIndex(config, defaultLockDir());
  const keychain = await openKeychain(config.keychainService);
  const bobRecord = index.read().accounts.find((account) => account.sub === 'bob');
  const bobEntry = bobRecord ? await keychain.get(bobRecord.entry) : null;
  if (!bobRecord || bobEntry === null) throw new Error('bob is not stored');
  const fillers = Array.from({ length: FILLER_ACCOUNTS }, (_, i) => `user-${i + 3}`);
  try {
    for (const sub of fillers) {
      const entry = `${keychainAccount(config)}#sub:${sub}`;
      await keychain.set(entry, JSON.stringify({ ...(JSON.parse(bobEntry) as object), sub, access: undefined }));
      await index.put({ sub, name: `${sub}@example.com`, user: { sub, name: `User ${sub}`, email: `${sub}@example.com` }, entry, standsOn: 'refresh_token' }, false);
    }
    const stored = index.read().accounts.length;
    // The default is Bob (the last signed in): `--account` picks Alice, whose shared token is fresh.
    if ((await run.latchkey('token', '--account', 'alice@example.com')).code !== 0) throw new Error('latchkey token --account failed');
    const floor: number[] = [];
    const tokenAccount: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < rounds + 2; i += 1) {
      const bare = await run.timed(['-e', '0']);
      const token = await run.latchkey('token', '--account', 'alice@example.com');
      const accounts = await run.latchkey('accounts');
      if (token.code !== 0 || accounts.code !== 0) throw new Error('latchkey token --account or accounts failed');
      if (i < 2) continue;
      floor.push(bare.ms);
      tokenAccount.push(token.ms);
      list.push(accounts.ms);
    }
    const nodeFloor = median(floor);
    const paired = (values: number[]): PairedFigure => ({ ms: round2(median(values)), ratio: round2(median(values) / nodeFloor) });
    return { stored, node_floor_ms: round2(nodeFloor), token_account: paired(tokenAccount), list: paired(list) };
  } finally {
    for (const sub of fillers) {
      await keychain.delete(`${keychainAccount(config)}#sub:${sub}`).catch(() => undefined);
      await index.remove(sub);
    }
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The `limit` functions with the most self time over every profile in `dir`, per profile, named by function and file. */
async function topOfProfiles(dir: string, limit: number): Promise<{ sampled_ms: number; top: ProfileItem[] }> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  const self = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const names = new Map(profile.nodes.map((node) => [node.id, nameOf(node.callFrame)]));
    profile.samples.forEach((id, i) => {
      const micros = profile.timeDeltas[i] ?? 0;
      const name = names.get(id) ?? '?';
      self.set(name, (self.get(name) ?? 0) + micros);
      total += micros;
    });
  }
  const perRun = (micros: number) => round2(micros / 1000 / Math.max(1, files.length));
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([what, micros]) => ({ what, ms: perRun(micros) }));
  return { sampled_ms: perRun(total), top };
}

function nameOf(frame: CpuProfile['nodes'][number]['callFrame']): string {
  if (!frame.url) return `(${frame.functionName.replace(/^\(|\)$/g, '')})`;
  const where = frame.url.replace(/^file:\/\/.*?\/(node_modules|out)\//, '$1/').replace(/^file:\/\/.*\//, '');
  return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}

/** The figures as table rows: name, value, note. */
export function cliRows(cli: CliFigures): [string, string, string][] {
  const over = (figure: PairedFigure) => `${figure.ratio}× node -e 0`;
  return [
    ['cli: `node -e 0` (median)', `${cli.node_floor_ms} ms`, `the node floor; load ${cli.load[0]} → ${cli.load[1]}`],
    ['cli: `latchkey token`, cached (median)', `${cli.token.ms} ms`, `${over(cli.token)} (target ≤ 1.6)`],
    ['cli: `latchkey headers URL`, cached (median)', `${cli.headers.ms} ms`, `${over(cli.headers)} (target ≤ 1.6)`],
    ['cli: `latchkey status --json`, signed in (median)', `${cli.status.ms} ms`, `${over(cli.status)} (target ≤ 1.6)`],
    ['cli: `latchkey --help` (median)', `${cli.help.ms} ms`, `${over(cli.help)} (target ≤ 1.15)`],
    ['cli: the bare keychain read under `token` (median)', `${cli.bare_read.ms} ms`, `${over(cli.bare_read)}: the floor (bench/bare-read.ts)`],
    ['cli: `latchkey token` through the agent (median)', `${cli.agent_token.ms} ms`, `${over(cli.agent_token)} (target ≤ 2 × node -e 0 + 30 ms = ${round2(2 * cli.node_floor_ms + 30)} ms)`],
    [`cli: token requests for ${cli.sequential} + ${cli.parallel} calls`, `${cli.provider_requests}`, 'target ≤ 1'],
    [`cli: ${cli.accounts.stored} accounts: \`node -e 0\` (median)`, `${cli.accounts.node_floor_ms} ms`, 'the node floor of these rounds'],
    [`cli: ${cli.accounts.stored} accounts: \`latchkey token --account NAME\`, cached`, `${cli.accounts.token_account.ms} ms`, `${over(cli.accounts.token_account)} (target ≤ 2 × floor + 50 ms = ${round2(2 * cli.accounts.node_floor_ms + 50)} ms)`],
    [`cli: ${cli.accounts.stored} accounts: \`latchkey accounts\``, `${cli.accounts.list.ms} ms`, `${over(cli.accounts.list)} (target ≤ 2 × floor + 80 ms = ${round2(2 * cli.accounts.node_floor_ms + 80)} ms)`],
    ['cli: CPU (user + system) and peak memory (medians)', '', 'each process its own, `node -e 0` included'],
    ...(
      [
        ['`node -e 0`', cli.usage.node],
        ['`latchkey token`', cli.usage.token],
        ['`latchkey headers URL`', cli.usage.headers],
        ['`latchkey status --json`', cli.usage.status],
        ['`latchkey --help`', cli.usage.help],
      ] as const
    ).map(([what, figure]): [string, string, string] => [
      `    ${what}`,
      `${figure.cpu_ms} ms`,
      `${figure.user_ms} + ${figure.system_ms} ms, ${figure.cpu_ratio}×; peak ${figure.peak_mib} MiB, ${figure.peak_ratio}×`,
    ]),
    ...instructionRows(cli.instructions),
    [`cli: one \`token\`, CPU profile (self time)`, `${cli.profile.sampled_ms} ms`, 'sampled; its top items:'],
    ...cli.profile.top.map((item): [string, string, string] => [`    ${item.what}`, `${item.ms} ms`, '']),
  ];
}

/** The medians of each command's instruction counts, and each over `node`'s. */
function instructionFigures<Name extends string>(counts: Record<Name | 'node', number[]>): Record<Name | 'node', InstructionFigure> {
  const node = median(counts.node);
  return Object.fromEntries(
    (Object.entries(counts) as [Name | 'node', number[]][]).map(([name, of]) => [name, { millions: round2(median(of) / 1e6), ratio: Math.round((median(of) / node) * 1000) / 1000 }]),
  ) as Record<Name | 'node', InstructionFigure>;
}

function instructionRows(instructions: CliFigures['instructions']): [string, string, string][] {
  if ('skipped' in instructions) return [['cli: instructions executed', 'not counted', instructions.skipped]];
  return [
    ['cli: instructions executed (callgrind, medians)', '', `every thread, without V8's random prime search; ratio over \`node -e 0\``],
    ...(
      [
        ['`node -e 0`', instructions.node],
        ['`latchkey token`', instructions.token],
        ['`latchkey headers URL`', instructions.headers],
        ['`latchkey status --json`', instructions.status],
        ['`latchkey --help`', instructions.help],
      ] as const
    ).map(([what, figure]): [string, string, string] => [`    ${what}`, `${figure.millions} M`, `${figure.ratio}×`]),
  ];
}

export const cliTargets = (cli: CliFigures) => ({
  cli_token_le_1_6x_floor: cli.token.ratio <= 1.6,
  cli_headers_le_1_6x_floor: cli.headers.ratio <= 1.6,
  cli_status_le_1_6x_floor: cli.status.ratio <= 1.6,
  cli_help_le_1_15x_floor: cli.help.ratio <= 1.15,
  cli_agent_token_le_2x_floor_plus_30: cli.agent_token.ms <= 2 * cli.node_floor_ms + 30,
  cli_provider_requests_le_1: cli.provider_requests <= 1,
  cli_token_account_of_ten_le_2x_floor_plus_50ms: cli.accounts.token_account.ms <= 2 * cli.accounts.node_floor_ms + 50,
  cli_accounts_of_ten_le_2x_floor_plus_80ms: cli.accounts.list.ms <= 2 * cli.accounts.node_floor_ms + 80,
});

// Alone: `npm run bench:cli [-- --json] [--rounds N]`.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false }, rounds: { type: 'string', default: '20' } } });
  process.stderr.write(`cli: ${args.rounds} × (\`node -e 0\`, \`latchkey token\`, \`headers\`, \`status\`, \`--help\`) interleaved, then ${args.rounds} more reporting their CPU and memory, then 3 under callgrind counting instructions (when valgrind is installed), then 8 parallel \`token\`, then 5 profiled\n`);
  const cli = await measureCli({ rounds: Number(args.rounds), parallel: 8 });
  const rows = cliRows(cli);
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`);
  if (args.json) console.log(JSON.stringify({ cli, targets: cliTargets(cli), node: process.version }));
}
