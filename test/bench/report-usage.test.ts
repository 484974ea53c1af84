// bench/report-usage.cjs, the preload through which each process bench/cli.ts measures reports its own CPU time and
// peak memory: the peak must be the process's own. Linux carries a parent's peak over fork and exec into
// `resourceUsage().maxRSS`, so a child of a big parent would report the parent's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PRELOAD = fileURLToPath(new URL('../../bench/report-usage.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'latchkey-report-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function reportOf(script: string): { userCPUTime: number; systemCPUTime: number; peakKiB: number } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  const run = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: `--require=${JSON.stringify(PRELOAD)}`, BENCH_USAGE_FILE: file } });
  expect(run.status, run.stderr.toString()).toBe(0);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const MiB = 1024;

describe.skipIf(process.platform !== 'linux')('bench/report-usage.cjs (Linux: the peak is read from /proc)', () => {
  it("reports a child's own peak memory, not the peak of the big process that started it", () => {
    // This process holds 400 MiB, touched, while it starts the children.
    const ballast = Buffer.alloc(400 * 1024 * 1024, 1);
    const bare = reportOf('0');
    const big = reportOf('globalThis.kept = Buffer.alloc(200 * 1024 * 1024, 1)');
    expect(ballast[ballast.length - 1]).toBe(1);
    expect(bare.peakKiB).toBeGreaterThan(10 * MiB);
    expect(bare.peakKiB).toBeLessThan(150 * MiB);
    expect(big.peakKiB).toBeGreaterThan(bare.peakKiB + 190 * MiB);
    expect(big.peakKiB).toBeLessThan(400 * MiB);
  });

  it('reports the CPU the process spent, its own work in user time', () => {
    const bare = reportOf('0');
    const busy = reportOf('const end = process.cpuUsage().user + 200_000; while (process.cpuUsage().user < end);');
    expect(bare.userCPUTime).toBeGreaterThan(0);
    expect(bare.systemCPUTime).toBeGreaterThan(0);
    expect(busy.userCPUTime).toBeGreaterThanOrEqual(bare.userCPUTime + 150_000);
  });
});
