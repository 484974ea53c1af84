// Instructions executed, counted by Valgrind's callgrind: the one figure of a command's start that does not move with
// the machine's load or speed. `npm run bench:cli` adds it when `valgrind` is on the PATH (Debian: `apt-get install
// valgrind`), as the ratio of each command's count over `node -e 0`'s, for the question wall time cannot answer here:
// how a command's start compares with Node's on a faster machine, where the kernel's share (page faults, the socket)
// is smaller and the ratio moves towards that of the work the process does itself.
//
// One thing is taken out of every count: V8 picks its hash seed at random at each start and searches for a prime near
// it (`detail::sprp`, a strong-probable-prime test, under `HashSeed::InitializeRoots`), 5–12 million instructions
// that differ from one start of the same program to the next by more than everything else does. Without it, two
// counts of the same command agree within a few tenths of a percent (test/bench/instructions.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether callgrind can count here; else the reason it cannot. */
export function callgrindAvailable(): true | string {
  const found = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) return 'valgrind is not installed (Debian: apt-get install valgrind)';
  return true;
}

/** What one run under callgrind executed: every thread's instructions, and those of V8's prime search among them. */
export interface InstructionCount {
  total: number;
  primeSearch: number;
}

/**
 * Runs `node ...args` once under callgrind (every thread; `--smc-check=all-non-file`, as V8 writes machine code into
 * memory it then runs) and counts what it executed. Rejects when the command fails.
 */
export async function countInstructions(args: string[], env: NodeJS.ProcessEnv): Promise<InstructionCount> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-callgrind-'));
  const out = join(dir, 'callgrind.out');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, ...args], { env, stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code} under callgrind`);
    return readCallgrind(await readFile(out, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The total and the prime search's self cost from a callgrind output file (one event, Ir). The format
 * (https://valgrind.org/docs/manual/cl-format.html): `fn=` names the function whose cost lines follow, a name given
 * once as `(id) name` (in `fn=` or `cfn=`) and then as `(id)` alone; a cost line after `calls=` is a call's inclusive
 * cost, not the function's own.
 */
export function readCallgrind(text: string): InstructionCount {
  const names = new Map<string, string>();
  let current = '';
  let afterCall = false;
  let total = 0;
  let primeSearch = 0;
  for (const line of text.split('\n')) {
    const named = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      const [, kind, id, name] = named;
      if (name !== undefined) names.set(id!, name);
      if (kind === 'fn') current = names.get(id!) ?? '';
      continue;
    }
    if (line.startsWith('fn=')) {
      current = line.slice(3);
      continue;
    }
    if (line.startsWith('calls=')) {
      afterCall = true;
      continue;
    }
    if (line.startsWith('summary:') || line.startsWith('totals:')) {
      total = Number(line.split(/\s+/)[1]);
      continue;
    }
    if (!/^[\d+*-]/.test(line)) continue;
    if (afterCall) {
      afterCall = false;
      continue;
    }
    if (current.includes('detail::sprp')) primeSearch += Number(line.trim().split(/\s+/).at(-1));
  }
  if (!total) throw new Error('callgrind wrote no total');
  return { total, primeSearch };
}

/**
 * `rounds` × each command of `args` in turn under callgrind (caches already warm): each one's instructions, V8's
 * prime search taken out, a count per round.
 */
export async function countEach<Name extends string>(rounds: number, env: NodeJS.ProcessEnv, args: Record<Name, string[]>): Promise<Record<Name, number[]>> {
  const names = Object.keys(args) as Name[];
  const counts = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>;
  for (let i = 0; i < rounds; i += 1) {
    for (const name of names) {
      const { total, primeSearch } = await countInstructions(args[name], env);
      counts[name].push(total - primeSearch);
    }
  }
  return counts;
}
